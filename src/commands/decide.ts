// decide(state, command): the lifecycle state machine of src/model/lifecycle.ts as a pure function.
// It checks the command against the current projection and returns the events to append, or a
// typed error. It performs no I/O and reads no clock: a rejected command appends nothing. The
// command's fields were checked once, where it was parsed (parse.ts); only business rules are here.
import { assertNever, type ErrorCode, type ErrorInfo } from "../model/errors.js";
import type { ContainerEvent, StoredEvent } from "../events/catalogue.js";
import type { Decider } from "../model/decider.js";
import { allows, isAbsent, isNoop, LIFECYCLE, type Lifecycle, type LifecycleStatus } from "../model/lifecycle.js";
import { evolve, initialState, type ContainerState, type LifecycleState } from "../projections/container.js";
import type { Command } from "./commands.js";
import { stopTimeoutError } from "./parse.js";

export type Decision = { ok: true; events: ContainerEvent[] } | { ok: false; error: ErrorInfo };

const accept = (events: ContainerEvent[]): Decision => ({ ok: true, events });
const reject = (code: ErrorCode, message: string): Decision => ({ ok: false, error: { code, message } });

const VERBS: Record<Command["type"], string> = {
  create: "create",
  bootstrap: "bootstrap",
  startProcess: "start",
  createProcess: "create a process in",
  kill: "kill",
  stop: "stop",
  shutdown: "shut down",
  delete: "delete",
  pause: "pause",
  unpause: "unpause",
  attach: "attach to",
  detach: "detach from",
  rename: "rename",
};

function wrongState(command: Command, state: ContainerState, expected: readonly LifecycleStatus[], hint = ""): Decision {
  return reject("invalidState", `cannot ${VERBS[command.type]}: container ${state.id} is ${state.status}, expected ${expected.join(" or ")}${hint}`);
}

/**
 * Refuses `command` in a status the table does not allow it in: an absent container is not
 * found, a create over a live one exists, anything else is in the wrong state.
 */
function refusal(state: LifecycleState, command: Command, table: Lifecycle): Decision {
  if (command.type === "create") return reject("exists", `cannot create: container ${command.id} already exists (it is ${state.status})`);
  if (isAbsent(state.status)) return reject("notFound", `no such container: ${command.id}`);
  const hint = command.type === "delete" ? " (use force to stop and delete it)" : "";
  return wrongState(command, state as ContainerState, table.commands[command.type], hint);
}

/** `table` is the lifecycle table; the specs pass a changed one to prove that they read it. */
export function decide(state: LifecycleState | undefined, command: Command, table: Lifecycle = LIFECYCLE): Decision {
  const current = state ?? initialState;
  if (isNoop(command.type, current.status, table)) return decideNoop(current, command);
  if (!allows(command.type, current.status, table)) return refusal(current, command, table);
  if (command.type === "create") return accept([{ type: "ContainerCreated", data: { id: command.id, config: command.config } }]);
  return decideExisting(current as ContainerState, command, table);
}

/** An accepted command with nothing to do still has the stop timeout it would use checked. */
function decideNoop(state: LifecycleState, command: Command): Decision {
  if (command.type !== "stop" || state.status === "none") return accept([]);
  const stop = validStop(state as ContainerState, command);
  return stop.ok ? accept([]) : { ok: false, error: stop.error };
}

function decideExisting(state: ContainerState, command: Exclude<Command, { type: "create" }>, table: Lifecycle): Decision {
  switch (command.type) {
    case "bootstrap": {
      const data: { dynamicEnv: Record<string, string>; run?: boolean } = { dynamicEnv: { ...command.dynamicEnv } };
      if (command.run === true) data.run = true;
      return accept([{ type: "BootstrapRequested", data }]);
    }
    case "startProcess":
      return decideStart(state, command, table);
    case "createProcess": {
      if (state.processes[command.processId]) return reject("exists", `cannot create process ${command.processId}: it already exists in container ${state.id}`);
      return accept([{ type: "ProcessCreated", data: { processId: command.processId, spec: command.spec } }]);
    }
    case "kill": {
      const process = state.processes[command.processId];
      if (!process) return reject("notFound", `no such process ${command.processId} in container ${state.id}`);
      if (process.status !== "running") return reject("invalidState", `cannot kill: process ${command.processId} is ${process.status}, expected running`);
      return accept([{ type: "SignalSent", data: { processId: command.processId, signal: command.signal } }]);
    }
    case "stop": {
      const stop = validStop(state, command);
      return stop.ok ? accept([{ type: "StopRequested", data: stop.value }]) : { ok: false, error: stop.error };
    }
    case "shutdown":
      return accept([{ type: "ShutdownRequested", data: {} }]);
    case "delete":
      return accept([{ type: "ContainerDeleted", data: {} }]);
    case "pause":
      return accept([{ type: "PauseRequested", data: {} }]);
    case "unpause":
      return accept([{ type: "UnpauseRequested", data: {} }]);
    case "attach": {
      const process = state.processes[command.processId];
      // init has no process entry before its start: `run -i` attaches to it while booted.
      const startable = command.processId === state.id && state.status === "booted";
      if (!process && !startable) return reject("notFound", `no such process ${command.processId} in container ${state.id}`);
      if (process?.status === "exited") return reject("invalidState", `cannot attach to process ${command.processId}: it has exited`);
      return accept([{ type: "ProcessAttached", data: { processId: command.processId, stdin: command.stdin, tty: command.tty } }]);
    }
    case "detach": {
      const attached = state.attached?.[command.session];
      if (!attached) return reject("notFound", `no such attach ${command.session} open on container ${state.id}`);
      return accept([{ type: "ProcessDetached", data: { processId: attached.processId, session: command.session, reason: command.reason } }]);
    }
    case "rename": {
      // That no other container is called `name` is a rule across streams: the route checks it.
      const from = state.name ?? state.id;
      if (command.name === from) return reject("invalidArgument", `cannot rename: container ${state.id} is already named ${from}`);
      return accept([{ type: "ContainerRenamed", data: { from, to: command.name } }]);
    }
    default:
      return assertNever(command);
  }
}

function decideStart(state: ContainerState, command: Extract<Command, { type: "startProcess" }>, table: Lifecycle): Decision {
  const isInit = command.processId === state.id;
  const { init, exec } = table.start;
  if (isInit && !init.includes(state.status)) return wrongState(command, state, init);
  if (!isInit && !exec.includes(state.status)) return reject("invalidState", `cannot start process ${command.processId}: container ${state.id} is ${state.status}, expected ${exec.join(" or ")}`);
  const process = state.processes[command.processId];
  if (!process) return reject("notFound", `no such process ${command.processId} in container ${state.id}; create it first`);
  if (process.status !== "created") return reject("invalidState", `cannot start process ${command.processId}: it is ${process.status}, expected created`);
  return accept([{ type: "ProcessStartRequested", data: { processId: command.processId } }]);
}

type StopArgs = { signal: string; timeoutInSeconds: number };

/** The container's configured signal and timeout fill what the command left out. */
function validStop(state: ContainerState, command: Extract<Command, { type: "stop" }>): { ok: true; value: StopArgs } | { ok: false; error: ErrorInfo } {
  const timeout = command.timeoutInSeconds ?? state.config.stopTimeoutSeconds;
  const error = stopTimeoutError(timeout);
  if (error) return { ok: false, error };
  return { ok: true, value: { signal: command.signal ?? state.config.stopSignal, timeoutInSeconds: timeout } };
}

export type ContainerDecider = Decider<LifecycleState, Command, StoredEvent<ContainerEvent>, Decision>;

/** A decider over `table` (the specs build one over a changed table to prove that they read it). */
export const deciderFor = (table: Lifecycle): ContainerDecider => ({ decide: (state, command) => decide(state, command, table), evolve: (state, event) => evolve(state, event), initialState });

/** The container decider: the one value the dispatcher and the model specs take. */
export const containerDecider: ContainerDecider = deciderFor(LIFECYCLE);
