// decide(state, command): the lifecycle state machine of docs/architecture.md as a pure function.
// It validates the command against the current projection and returns the events to append,
// or a typed error. It performs no I/O and reads no clock: a rejected command appends nothing.
import { assertNever, type ErrorCode, type ErrorInfo } from "../errors.js";
import type { ContainerEvent } from "../events/catalogue.js";
import type { ContainerState, ContainerStatus } from "../projections/container.js";
import type { Command } from "./commands.js";
import { normaliseSignal, validateConfig, validateId, validateProcessSpec } from "./config.js";

export type Decision = { ok: true; events: ContainerEvent[] } | { ok: false; error: ErrorInfo };

const accept = (events: ContainerEvent[]): Decision => ({ ok: true, events });
const reject = (code: ErrorCode, message: string): Decision => ({ ok: false, error: { code, message } });

/** Which statuses each command may run in: the table in docs/architecture.md (test/docs.test.ts compares). */
export const ALLOWED: Record<Command["type"], readonly ContainerStatus[]> = {
  create: [],
  bootstrap: ["created"],
  startProcess: ["booted", "running"],
  createProcess: ["booted", "running"],
  kill: ["running", "stopping"],
  stop: ["booted", "running", "paused"],
  shutdown: ["created", "booted", "stopped"],
  delete: ["created", "stopped"],
  pause: ["running"],
  unpause: ["paused"],
};

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
};

function wrongState(command: Command, state: ContainerState, expected: readonly ContainerStatus[], hint = ""): Decision {
  return reject("invalidState", `cannot ${VERBS[command.type]}: container ${state.id} is ${state.status}, expected ${expected.join(" or ")}${hint}`);
}

export function decide(state: ContainerState | undefined, command: Command): Decision {
  const id = validateId(command.id);
  if (!id.ok) return { ok: false, error: id.error };
  const live = state && state.status !== "deleted" ? state : undefined;

  if (command.type === "create") {
    if (live) return reject("exists", `cannot create: container ${command.id} already exists (it is ${live.status})`);
    const config = validateConfig(command.config, command.id);
    if (!config.ok) return { ok: false, error: config.error };
    return accept([{ type: "ContainerCreated", data: { id: command.id, config: config.value } }]);
  }
  if (!live) return reject("notFound", `no such container: ${command.id}`);
  return decideExisting(live, command);
}

function decideExisting(state: ContainerState, command: Exclude<Command, { type: "create" }>): Decision {
  // Idempotent stop (as in Apple's service): nothing to do for a container that is not running.
  if (command.type === "stop" && (state.status === "created" || state.status === "stopped" || state.status === "stopping")) {
    const stop = validStop(state, command);
    return stop.ok ? accept([]) : { ok: false, error: stop.error };
  }
  const allowed = ALLOWED[command.type];
  if (!allowed.includes(state.status)) {
    return wrongState(command, state, allowed, command.type === "delete" ? " (use force to stop and delete it)" : "");
  }
  switch (command.type) {
    case "bootstrap": {
      const env = command.dynamicEnv ?? {};
      if (typeof env !== "object" || Array.isArray(env) || !Object.values(env as object).every((v) => typeof v === "string")) {
        return reject("invalidArgument", "dynamicEnv must map names to strings");
      }
      return accept([{ type: "BootstrapRequested", data: { dynamicEnv: { ...(env as Record<string, string>) } } }]);
    }
    case "startProcess":
      return decideStart(state, command);
    case "createProcess": {
      const pid = validateId(command.processId, "process id");
      if (!pid.ok) return { ok: false, error: pid.error };
      if (state.processes[command.processId]) return reject("exists", `cannot create process ${command.processId}: it already exists in container ${state.id}`);
      const spec = validateProcessSpec(command.spec, `process ${command.processId}`);
      if (!spec.ok) return { ok: false, error: spec.error };
      return accept([{ type: "ProcessCreated", data: { processId: command.processId, spec: spec.value } }]);
    }
    case "kill": {
      const signal = normaliseSignal(command.signal);
      if (!signal.ok) return { ok: false, error: signal.error };
      const process = state.processes[command.processId];
      if (!process) return reject("notFound", `no such process ${command.processId} in container ${state.id}`);
      if (process.status !== "running") return reject("invalidState", `cannot kill: process ${command.processId} is ${process.status}, expected running`);
      return accept([{ type: "SignalSent", data: { processId: command.processId, signal: signal.value } }]);
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
    default:
      return assertNever(command);
  }
}

function decideStart(state: ContainerState, command: Extract<Command, { type: "startProcess" }>): Decision {
  const isInit = command.processId === state.id;
  if (isInit && state.status !== "booted") return wrongState(command, state, ["booted"]);
  if (!isInit && state.status !== "running") return reject("invalidState", `cannot start process ${command.processId}: container ${state.id} is ${state.status}, expected running`);
  const process = state.processes[command.processId];
  if (!process) return reject("notFound", `no such process ${command.processId} in container ${state.id}; create it first`);
  if (process.status !== "created") return reject("invalidState", `cannot start process ${command.processId}: it is ${process.status}, expected created`);
  return accept([{ type: "ProcessStartRequested", data: { processId: command.processId } }]);
}

type StopArgs = { signal: string; timeoutInSeconds: number };

function validStop(state: ContainerState, command: Extract<Command, { type: "stop" }>): { ok: true; value: StopArgs } | { ok: false; error: ErrorInfo } {
  const signal = normaliseSignal(command.signal ?? state.config.stopSignal);
  if (!signal.ok) return signal;
  const timeout = command.timeoutInSeconds ?? state.config.stopTimeoutSeconds;
  if (typeof timeout !== "number" || !(timeout >= 0) || timeout > 86400) {
    return { ok: false, error: { code: "invalidArgument", message: `stop timeout must be a number of seconds between 0 and 86400, got ${JSON.stringify(timeout)}` } };
  }
  return { ok: true, value: { signal: signal.value, timeoutInSeconds: timeout } };
}
