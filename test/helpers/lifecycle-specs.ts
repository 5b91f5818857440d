// The lifecycle state machine as specifications: what decide does with every command in every
// status, and which event the journal may hold after which. The cells are written out by hand
// (today's behaviour, as model-state-machine.test.ts pinned it), never read from
// src/model/lifecycle.ts: model-lifecycle.test.ts changes the table and checks that they notice.
import type { Command } from "../../src/commands/commands.js";
import type { ErrorCode } from "../../src/model/errors.js";
import type { ContainerEvent } from "../../src/events/catalogue.js";
import { LIFECYCLE, type Lifecycle, type LifecycleStatus } from "../../src/model/lifecycle.js";
import { command, configFor, given, history, initArgs, T0 } from "./model.js";

const spec = { args: ["ls"], env: {}, cwd: "/" };
export const commands: Record<string, Command> = {
  create: command({ type: "create", id: "c1", config: { init: initArgs } }),
  bootstrap: command({ type: "bootstrap", id: "c1" }),
  startInit: command({ type: "startProcess", id: "c1", processId: "c1" }),
  createProcess: command({ type: "createProcess", id: "c1", processId: "x1", spec }),
  startExec: command({ type: "startProcess", id: "c1", processId: "x1" }),
  killInit: command({ type: "kill", id: "c1", processId: "c1", signal: "TERM" }),
  stop: command({ type: "stop", id: "c1" }),
  shutdown: command({ type: "shutdown", id: "c1" }),
  delete: command({ type: "delete", id: "c1" }),
  pause: command({ type: "pause", id: "c1" }),
  unpause: command({ type: "unpause", id: "c1" }),
  attachInit: command({ type: "attach", id: "c1", processId: "c1", stdin: true, tty: true }),
  detach: command({ type: "detach", id: "c1", session: "s0", reason: "detached" }),
  rename: command({ type: "rename", id: "c1", name: "c2" }),
};

/** The events of the history that reaches `status` (none: no events). */
export const historyOf = (status: LifecycleStatus): ContainerEvent[] => (status === "none" ? [] : history[status]());

type Expect = ContainerEvent["type"] | "none" | ErrorCode | "notFoundAttach"; // the event appended, "none" for an accepted no-op, or the refusal
const I = "invalidState", N = "notFound";
// A: notFound from the decider itself (detach of an attach that is not open), told apart from N's "no such container".
const A = "notFoundAttach";
// prettier-ignore
export const decideTable: Record<LifecycleStatus, Expect[]> = {
  //               create              bootstrap             startInit                createProcess     startExec  killInit      stop             shutdown             delete              pause             unpause             attachInit         detach   rename
  none:         ["ContainerCreated", N,                    N,                       N,                N,         N,            N,               N,                   N,                  N,                N, N,                 N, N],
  created:      ["exists",           "BootstrapRequested", I,                       I,                I,         I,            "none",          "ShutdownRequested", "ContainerDeleted", I,                I, I,                 A, "ContainerRenamed"],
  booting:      ["exists",           I,                    I,                       I,                I,         I,            I,               I,                   I,                  I,                I, I,                 A, "ContainerRenamed"],
  booted:       ["exists",           I,                    "ProcessStartRequested", "ProcessCreated", I,         I,            "StopRequested", "ShutdownRequested", I,                  I,                I, "ProcessAttached", A, "ContainerRenamed"],
  running:      ["exists",           I,                    I,                       "ProcessCreated", N,         "SignalSent", "StopRequested", I,                   I,                  "PauseRequested", I, "ProcessAttached", A, "ContainerRenamed"],
  paused:       ["exists",           I,                    I,                       I,                I,         I,            "StopRequested", I,                   I,                  I,                "UnpauseRequested", "ProcessAttached", A, "ContainerRenamed"],
  stopping:     ["exists",           I,                    I,                       I,                I,         "SignalSent", "none",          I,                   I,                  I,                I, I,                 A, "ContainerRenamed"],
  stopped:      ["exists",           I,                    I,                       I,                I,         I,            "none",          "ShutdownRequested", "ContainerDeleted", I,                I, I,                 A, "ContainerRenamed"],
  shuttingDown: ["exists",           I,                    I,                       I,                I,         I,            I,               I,                   I,                  I,                I, I,                 A, "ContainerRenamed"],
  deleted:      ["ContainerCreated", N,                    N,                       N,                N,         N,            N,               N,                   N,                  N,                N, N,                 A, N],
};

// What an invalidState refusal says it expected, by command (the table's row, in words).
const EXPECTED: Record<string, string> = {
  bootstrap: "created", startInit: "booted or running", createProcess: "booted or running", startExec: "booted or running",
  killInit: "running or stopping", stop: "booted or running or paused", shutdown: "created or booted or stopped",
  delete: "created or stopped", pause: "running", unpause: "paused", attachInit: "booted or running or paused",
  detach: "created or booting or booted or running or paused or stopping or stopped or shuttingDown or deleted",
  rename: "created or booting or booted or running or paused or stopping or stopped or shuttingDown",
};
// Inside startProcess's row, the finer rule speaks: init starts only in booted, an exec only in running.
const EXPECTED_IN: Record<string, string> = { "startInit running": "booted", "startExec booted": "running" };

/** decide's spec for one status: every command, through given/when/then. */
export function decideSpec(status: LifecycleStatus, table: Lifecycle = LIFECYCLE): void {
  const names = Object.keys(commands);
  decideTable[status].forEach((expected, i) => {
    const when = given(historyOf(status), "c1", table).when(commands[names[i]!]!);
    if (expected === "none") when.thenNothingHappened();
    else if (/^[A-Z]/.test(expected)) when.thenAppends(expected as ContainerEvent["type"]);
    else if (expected === A) when.thenFails(N, /no such attach/);
    else when.thenFails(expected as ErrorCode, expected === N ? /no such (container|process)/ : expected === I ? refusedIn(names[i]!, status) : "already exists");
  });
}

const err = { code: "internalError", message: "x" } as const;
export const events: ContainerEvent[] = [
  { type: "ContainerCreated", data: { id: "c1", config: configFor("c1") } },
  { type: "BootstrapRequested", data: { dynamicEnv: {} } },
  { type: "ContainerBooted", data: { runtime: { pid: 100, startTime: 5, socket: "/run/x.sock", driver: "fake" } } },
  { type: "BootstrapFailed", data: { error: err } },
  { type: "ProcessCreated", data: { processId: "x1", spec: { ...spec, rlimits: [], terminal: false } } },
  { type: "ProcessStartRequested", data: { processId: "c1" } },
  { type: "ProcessStarted", data: { processId: "c1", pid: 200, startedAt: T0 } },
  { type: "ProcessStartFailed", data: { processId: "c1", error: err } },
  { type: "SignalSent", data: { processId: "c1", signal: "SIGTERM" } },
  { type: "ProcessExited", data: { processId: "c1", pid: 200, exitCode: 0, exitedAt: T0, oomKilled: false } },
  { type: "StopRequested", data: { signal: "SIGTERM", timeoutInSeconds: 1 } },
  { type: "ContainerStopped", data: {} },
  { type: "ShutdownRequested", data: {} },
  { type: "ContainerShutdown", data: {} },
  { type: "ContainerDeleted", data: {} },
  { type: "ContainerLost", data: { reason: "gone", exitCode: 255 } },
  { type: "RestartScheduled", data: { attempt: 1, delayMs: 0 } },
  { type: "PauseRequested", data: {} },
  { type: "UnpauseRequested", data: {} },
  { type: "ContainerPaused", data: {} },
  { type: "ContainerUnpaused", data: {} },
  { type: "ProcessAttached", data: { processId: "c1", stdin: true, tty: true } },
  { type: "ProcessDetached", data: { processId: "c1", session: "s0", reason: "detached" } },
  { type: "ContainerRenamed", data: { from: "c1", to: "c2" } },
  { type: "NetworkAttached", data: { network: "bridge", interface: "eth0", address: "10.89.0.2/24", gateway: "10.89.0.1", mac: "02:00:00:00:00:01", ports: [], aliases: [] } },
  { type: "NetworkDetached", data: { network: "bridge", address: "10.89.0.2/24", reason: "stopped" } },
];

// What evolve does with each event after the history that reaches each status: the status it
// leaves the container in, or the audit's refusal. S: refused by the status rule ("X while
// <status>", or no such container); P: refused by a pending-intent or process rule, which the
// status rule lets through (a flipped status cell turns a P into a legal step, or an S into a P).
const S = "S", P = "P";
type Cell = LifecycleStatus | typeof S | typeof P;
// prettier-ignore
export const evolveTable: Record<LifecycleStatus, Cell[]> = {
  //             Created     BootReq    Booted      BootFail  ProcCreated ProcStartReq ProcStarted ProcStartFail Signal    Exited      StopReq     Stopped  Shutdown        ShutDone   Deleted    Lost       Restart    PauseReq   UnpauseReq Paused  Unpaused   Attached   Detached   Renamed  NetAttached NetDetached
  none:         ["created",    S,         S,          S,         S,           S,            S,            S,             S,          S,           S,           S,        S,               S,          S,          S,          S,          S,          S,          S,       S, S,          S, S, S, S],
  created:      [S,            "booting", P,          P,         S,           S,            P,            P,             S,          P,           S,           S,        "shuttingDown",  P,          "deleted",  S,          S,          S,          S,          P,       P, S,          "created", "created", S, "created"],
  booting:      [S,            S,         "booted",   "created", S,           S,            P,            P,             S,          P,           S,           S,        S,               P,          S,          S,          S,          S,          S,          P,       P, S,          "booting", "booting", "booting", "booting"],
  booted:       [S,            S,         P,          P,         "booted",    "booted",     P,            P,             S,          P,           "stopping",  S,        "shuttingDown",  P,          S,          "stopped",  S,          S,          S,          P,       P, "booted",   "booted", "booted", S, "booted"],
  running:      [S,            S,         P,          P,         "running",   P,            P,            P,             "running",  "stopping",  "stopping",  S,        S,               P,          S,          "stopped",  S,          "running",  S,          P,       P, "running",  "running", "running", "running", "running"],
  paused:       [S,            S,         P,          P,         S,           S,            P,            P,             S,          "stopping",  "stopping",  S,        S,               P,          S,          "stopped",  S,          S,          "paused",   P,       P, "paused",   "paused", "paused", S, "paused"],
  stopping:     [S,            S,         P,          P,         S,           S,            P,            P,             "stopping", "stopping",  S,           P,        S,               P,          S,          "stopped",  S,          S,          S,          P,       P, S,          "stopping", "stopping", S, "stopping"],
  stopped:      [S,            S,         P,          P,         S,           S,            P,            P,             S,          P,           S,           S,        "shuttingDown",  P,          "deleted",  S,          "stopped",  S,          S,          P,       P, S,          "stopped", "stopped", S, "stopped"],
  shuttingDown: [S,            S,         P,          P,         S,           S,            P,            P,             S,          P,           S,           S,        S,               "created",  S,          S,          S,          S,          S,          P,       P, S,          "shuttingDown", "shuttingDown", S, "shuttingDown"],
  deleted:      ["created",    S,         S,          S,         S,           S,            S,            S,             S,          S,           S,           S,        S,               S,          S,          S,          S,          S,          S,          S,       S, S,          "deleted", S, S, S],
};

// The start of an exec process x1 that is registered (after the history that reaches each status).
const execCreated: ContainerEvent = { type: "ProcessCreated", data: { processId: "x1", spec: { ...spec, rlimits: [], terminal: false } } };
const execStart: ContainerEvent = { type: "ProcessStartRequested", data: { processId: "x1" } };
// prettier-ignore
export const execStartTable: Record<LifecycleStatus, Cell> = {
  none: S, created: S, booting: S, booted: "booted", running: "running", paused: S, stopping: S, stopped: S, shuttingDown: S, deleted: S,
};

/** evolve's spec for one status: every event, legal (and where it ends) or refused by the audit. */
export function evolveSpec(status: LifecycleStatus, table: Lifecycle = LIFECYCLE): void {
  const cases: [ContainerEvent[], ContainerEvent, Cell][] = evolveTable[status].map((expected, i) => [historyOf(status), events[i]!, expected]);
  cases.push([status === "none" ? [] : [...historyOf(status), execCreated], execStart, execStartTable[status]]);
  cases.forEach(([past, event, expected]) => {
    const when = given(past, "c1", table).whenEvent(event);
    if (expected === S) when.thenFails(new RegExp(`while ${status} \\(allowed|does not exist|^ContainerCreated while ${status}$`));
    else if (expected === P) when.thenFails(/without a pending|that is|still runs|for existing/);
    else when.then(expected);
  });
}

function refusedIn(command: string, status: LifecycleStatus): RegExp {
  const expected = EXPECTED_IN[`${command} ${status}`] ?? EXPECTED[command]!;
  return new RegExp(`is ${status}, expected ${expected}( \\(|$)`);
}
