// Acceptance 2.2: random command sequences against a small, independent reference model of the
// state machine. Outcome steps play the reactor's part and are applied when the reference model
// says the effect could have happened. Decider and model must agree at every step.
import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Command, CommandInput } from "../src/commands/commands.js";
import { decide } from "../src/commands/decide.js";
import type { ContainerEvent, EventType, StoredEvent } from "../src/events/catalogue.js";
import { evolve, evolveOwned, type ContainerState } from "../src/projections/container.js";
import { illegalTransition } from "../src/projections/transitions.js";
import { command, configFor, initArgs, stored } from "./helpers/model.js";

type P = "created" | "starting" | "running" | "exited";
interface Ref { status: string; procs: Record<string, P>; pausing?: "pause" | "unpause" }
const INIT = "c1";
const execIds = ["x1", "x2"];

type Step =
  | { kind: "command"; name: "create" | "bootstrap" | "startInit" | "stop" | "shutdown" | "delete" | "pause" | "unpause" }
  | { kind: "command"; name: "createExec" | "startExec" | "kill"; proc: string }
  | { kind: "outcome"; name: "bootOk" | "bootFail" | "initStarted" | "initStartFailed" | "initExited" | "stopped" | "shutdownDone" | "lost" | "paused" | "unpaused" }
  | { kind: "outcome"; name: "execStarted" | "execStartFailed" | "execExited"; proc: string };

function toCommand(step: Extract<Step, { kind: "command" }>): Command {
  return command(toInput(step));
}

function toInput(step: Extract<Step, { kind: "command" }>): CommandInput {
  switch (step.name) {
    case "create": return { type: "create", id: INIT, config: { init: initArgs } };
    case "bootstrap": return { type: "bootstrap", id: INIT };
    case "startInit": return { type: "startProcess", id: INIT, processId: INIT };
    case "stop": return { type: "stop", id: INIT, timeoutInSeconds: 1 };
    case "shutdown": return { type: "shutdown", id: INIT };
    case "delete": return { type: "delete", id: INIT };
    case "pause": return { type: "pause", id: INIT };
    case "unpause": return { type: "unpause", id: INIT };
    case "createExec": return { type: "createProcess", id: INIT, processId: step.proc, spec: { args: ["true"] } };
    case "startExec": return { type: "startProcess", id: INIT, processId: step.proc };
    case "kill": return { type: "kill", id: INIT, processId: step.proc, signal: "KILL" };
  }
}

/** The reference model: what each command does, written as plainly as possible. */
function refCommand(ref: Ref, step: Extract<Step, { kind: "command" }>): string {
  const s = ref.status;
  if (step.name === "create") {
    if (s !== "none" && s !== "deleted") return "exists";
    ref.status = "created"; ref.procs = { [INIT]: "created" }; return "ok";
  }
  if (s === "none" || s === "deleted") return "notFound";
  const proc = "proc" in step ? step.proc : INIT;
  switch (step.name) {
    case "bootstrap": if (s !== "created") return "invalidState"; ref.status = "booting"; return "ok";
    case "startInit": if (s !== "booted" || ref.procs[INIT] !== "created") return "invalidState"; ref.procs[INIT] = "starting"; return "ok";
    case "createExec": if (s !== "booted" && s !== "running") return "invalidState"; if (ref.procs[proc]) return "exists"; ref.procs[proc] = "created"; return "ok";
    case "startExec":
      if (s !== "booted" && s !== "running") return "invalidState";
      if (s !== "running") return "invalidState";
      if (!ref.procs[proc]) return "notFound";
      if (ref.procs[proc] !== "created") return "invalidState";
      ref.procs[proc] = "starting"; return "ok";
    case "kill": if (s !== "running" && s !== "stopping") return "invalidState"; if (!ref.procs[proc]) return "notFound"; return ref.procs[proc] === "running" ? "ok" : "invalidState";
    case "stop": if (["created", "stopped", "stopping"].includes(s)) return "ok"; if (s !== "booted" && s !== "running" && s !== "paused") return "invalidState"; ref.status = "stopping"; ref.pausing = undefined; return "ok";
    case "pause": if (s !== "running") return "invalidState"; ref.pausing = "pause"; return "ok";
    case "unpause": if (s !== "paused") return "invalidState"; ref.pausing = "unpause"; return "ok";
    case "shutdown": if (!["created", "booted", "stopped"].includes(s)) return "invalidState"; ref.status = "shuttingDown"; return "ok";
    case "delete": if (s !== "created" && s !== "stopped") return "invalidState"; ref.status = "deleted"; return "ok";
  }
}

/** The reactor's outcomes: the event to journal, if the effect could have happened now. */
function refOutcome(ref: Ref, step: Extract<Step, { kind: "outcome" }>): ContainerEvent | undefined {
  const s = ref.status;
  const proc = "proc" in step ? step.proc : INIT;
  const exit = (processId: string, exitCode: number): ContainerEvent => ({ type: "ProcessExited", data: { processId, pid: 42, exitCode, exitedAt: 1, oomKilled: false } });
  switch (step.name) {
    case "bootOk": if (s !== "booting") return; ref.status = "booted"; ref.procs = { [INIT]: "created" }; return { type: "ContainerBooted", data: { runtime: { pid: 1, startTime: 1, socket: "/s", driver: "fake" } } };
    case "bootFail": if (s !== "booting") return; ref.status = "created"; return { type: "BootstrapFailed", data: { error: { code: "internalError", message: "boom" } } };
    case "initStarted": if (ref.procs[INIT] !== "starting" || s !== "booted") return; ref.procs[INIT] = "running"; ref.status = "running"; return { type: "ProcessStarted", data: { processId: INIT, pid: 42, startedAt: 1 } };
    case "initStartFailed": if (ref.procs[INIT] !== "starting" || s !== "booted") return; ref.procs[INIT] = "created"; return { type: "ProcessStartFailed", data: { processId: INIT, error: { code: "internalError", message: "no" } } };
    case "initExited": if (ref.procs[INIT] !== "running") return; ref.procs[INIT] = "exited"; ref.status = "stopping"; return exit(INIT, 3);
    case "stopped": if (s !== "stopping" || ref.procs[INIT] === "running") return; ref.status = "stopped";
      for (const k of Object.keys(ref.procs)) if (ref.procs[k] === "starting") ref.procs[k] = "exited";
      return { type: "ContainerStopped", data: {} };
    case "shutdownDone": if (s !== "shuttingDown") return; ref.status = "created"; ref.procs = { [INIT]: "created" }; return { type: "ContainerShutdown", data: {} };
    case "paused": if (!ref.pausing || (s !== "running" && s !== "paused")) return; ref.status = ref.pausing === "pause" ? "paused" : "running"; ref.pausing = undefined; return { type: ref.status === "paused" ? "ContainerPaused" : "ContainerUnpaused", data: {} };
    case "unpaused": if (!ref.pausing || (s !== "running" && s !== "paused")) return; ref.pausing = undefined; return { type: s === "paused" ? "ContainerPaused" : "ContainerUnpaused", data: { error: { code: "internalError", message: "freezer failed" } } };
    case "lost":
      if (!["booted", "running", "paused", "stopping"].includes(s)) return;
      ref.status = "stopped"; ref.pausing = undefined;
      for (const k of Object.keys(ref.procs)) if (ref.procs[k] === "running" || ref.procs[k] === "starting") ref.procs[k] = "exited";
      return { type: "ContainerLost", data: { reason: "runtime service vanished", exitCode: 255 } };
    case "execStarted": if (ref.procs[proc] !== "starting") return; ref.procs[proc] = "running"; return { type: "ProcessStarted", data: { processId: proc, pid: 43, startedAt: 1 } };
    case "execStartFailed": if (ref.procs[proc] !== "starting") return; ref.procs[proc] = "exited"; return { type: "ProcessStartFailed", data: { processId: proc, error: { code: "invalidArgument", message: "not found" }, exitCode: 127 } };
    case "execExited": if (ref.procs[proc] !== "running") return; ref.procs[proc] = "exited"; return exit(proc, 0);
  }
}

const proc = fc.constantFrom(INIT, ...execIds);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom("create", "bootstrap", "startInit", "stop", "shutdown", "delete", "pause", "unpause").map((name) => ({ kind: "command", name }) as Step),
  fc.record({ kind: fc.constant("command"), name: fc.constantFrom("createExec", "startExec"), proc: fc.constantFrom(...execIds) }).map((s) => s as Step),
  fc.record({ kind: fc.constant("command"), name: fc.constant("kill"), proc }).map((s) => s as Step),
  fc.constantFrom("bootOk", "bootFail", "initStarted", "initStartFailed", "initExited", "stopped", "shutdownDone", "lost", "paused", "unpaused").map((name) => ({ kind: "outcome", name }) as Step),
  fc.record({ kind: fc.constant("outcome"), name: fc.constantFrom("execStarted", "execStartFailed", "execExited"), proc: fc.constantFrom(...execIds) }).map((s) => s as Step),
);

function run(steps: Step[]): void {
  const ref: Ref = { status: "none", procs: {} };
  let state: ContainerState | undefined;
  let position = 0;
  const append = (events: ContainerEvent[]) => {
    for (const e of stored(events, INIT, position)) state = evolve(state, e);
    position += events.length;
  };
  steps.forEach((s, i) => {
    const where = `step ${i} ${JSON.stringify(s)} from ${JSON.stringify(steps.slice(0, i).map((x) => x.name))}`;
    if (s.kind === "command") {
      const expected = refCommand(ref, s);
      const decision = decide(state, toCommand(s));
      assert.is(decision.ok ? "ok" : decision.error.code, expected, where);
      if (decision.ok) append(decision.events);
    } else {
      const event = refOutcome(ref, s);
      if (event) append([event]);
    }
    assert.is(state?.status ?? "none", ref.status, where);
    for (const [id, p] of Object.entries(ref.procs)) if (ref.status !== "deleted") assert.is(state?.processes[id]?.status, p, `${where}: process ${id}`);
    if (state && ["created", "stopped", "deleted"].includes(state.status)) assert.equal(state.pending, [], `${where}: no pending intent when at rest`);
  });
}

test("1,500 random command sequences agree with the reference model at every step", () => {
  const result = fc.check(fc.property(fc.array(step, { minLength: 10, maxLength: 80, size: "max" }), (steps) => run(steps)), {
    numRuns: 1500,
    seed: Number(process.env.BERTH_SEED ?? 20261128),
  });
  // Surface the model's own assertion for the shrunk counterexample, not just fast-check's summary.
  if (result.failed) throw result.errorInstance ?? new Error(`property failed: ${JSON.stringify(result.counterexample)}`);
  assert.is(result.numRuns, 1500);
});

// Every event the journal may hold, for the init and one exec'd process; a history is built by
// picking, at each step, one of those that is legal next (transitions.ts), so every status and
// every event type is reached.
const EXEC = "x1";
const candidates: ContainerEvent[] = [
  { type: "ContainerCreated", data: { id: INIT, config: configFor(INIT) } },
  { type: "BootstrapRequested", data: { dynamicEnv: { A: "1" } } },
  { type: "ContainerBooted", data: { runtime: { pid: 1, startTime: 1, socket: "/s", driver: "fake" } } },
  { type: "BootstrapFailed", data: { error: { code: "internalError", message: "boom" } } },
  { type: "ProcessCreated", data: { processId: EXEC, spec: { ...initArgs, env: [], cwd: "/", user: { uid: 0, gid: 0 } } as never } },
  ...[INIT, EXEC].flatMap((processId): ContainerEvent[] => [
    { type: "ProcessStartRequested", data: { processId } },
    { type: "ProcessStarted", data: { processId, pid: 42, startedAt: 7 } },
    { type: "ProcessStartFailed", data: { processId, error: { code: "invalidArgument", message: "no" }, exitCode: 127 } },
    { type: "SignalSent", data: { processId, signal: "SIGTERM" } },
    { type: "ProcessExited", data: { processId, pid: 42, exitCode: 137, signal: "SIGKILL", exitedAt: 9, oomKilled: true } },
    { type: "ProcessExited", data: { processId, pid: 42, exitCode: 0, exitedAt: 9, oomKilled: false } },
  ]),
  { type: "StopRequested", data: { signal: "SIGTERM", timeoutInSeconds: 1 } },
  { type: "ContainerStopped", data: {} },
  { type: "ShutdownRequested", data: {} },
  { type: "ContainerShutdown", data: {} },
  { type: "ContainerDeleted", data: {} },
  { type: "ContainerLost", data: { reason: "gone", exitCode: 255 } },
  { type: "RestartScheduled", data: { attempt: 2, delayMs: 10 } } as never,
  { type: "PauseRequested", data: {} },
  { type: "UnpauseRequested", data: {} },
  { type: "ContainerPaused", data: {} },
  { type: "ContainerUnpaused", data: { error: { code: "internalError", message: "freezer failed" } } },
];

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

test("the rebuild's in-place fold agrees with evolve at every step, and evolve never changes its input", () => {
  const seen = new Set<EventType>();
  const result = fc.check(fc.property(fc.array(fc.nat(), { minLength: 20, maxLength: 200, size: "max" }), (picks) => {
    let pure: ContainerState | undefined;
    let owned: ContainerState | undefined;
    picks.forEach((pick, i) => {
      const legal = candidates.filter((e) => illegalTransition(pure, e as StoredEvent<ContainerEvent>) === undefined);
      if (legal.length === 0) return;
      const event = stored([legal[pick % legal.length]!], INIT, i)[0]!;
      seen.add(event.type);
      pure = evolve(pure, event);
      owned = evolveOwned(owned, event);
      assert.equal(owned, pure, `after ${event.type} at step ${i}`);
      // Frozen, the next evolve throws if it changes its input (modules run in strict mode).
      deepFreeze(pure);
    });
  }), { numRuns: 400, seed: Number(process.env.BERTH_SEED ?? 20261128) });
  if (result.failed) throw result.errorInstance ?? new Error(`property failed: ${JSON.stringify(result.counterexample)}`);
  assert.equal([...seen].sort(), [...new Set(candidates.map((e) => e.type))].sort(), "every event type was folded");
});

test.run();
