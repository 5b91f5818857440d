// The container lifecycle state machine, written once. The decider (commands/decide.ts), the
// journal audit (projections/transitions.ts), the routes, recovery and the runtime service
// all read their status rules from this table; docs/architecture.md prints it and
// test/docs.test.ts checks that it does. Pure data: no I/O, no imports from above src/model/.

export type ContainerStatus = "created" | "booting" | "booted" | "running" | "paused" | "stopping" | "stopped" | "shuttingDown" | "deleted";
/** A container's status as the decider sees it: `none` is an id that was never used. */
export type LifecycleStatus = "none" | ContainerStatus;

export const STATUSES: readonly LifecycleStatus[] = ["none", "created", "booting", "booted", "running", "paused", "stopping", "stopped", "shuttingDown", "deleted"];

/** The command names of commands/commands.ts (which checks that the two lists agree). */
export type CommandType = "create" | "bootstrap" | "startProcess" | "createProcess" | "kill" | "stop" | "shutdown" | "delete" | "pause" | "unpause" | "attach" | "detach" | "rename";

/** The container event names of events/catalogue.ts (projections/transitions.ts checks that they agree). */
export type LifecycleEventType =
  | "ContainerCreated" | "BootstrapRequested" | "ContainerBooted" | "BootstrapFailed" | "ProcessCreated" | "ProcessStartRequested"
  | "ProcessStarted" | "ProcessStartFailed" | "SignalSent" | "ProcessExited" | "StopRequested" | "ContainerStopped"
  | "ShutdownRequested" | "ContainerShutdown" | "ContainerDeleted" | "ContainerLost" | "RestartScheduled"
  | "PauseRequested" | "UnpauseRequested" | "ContainerPaused" | "ContainerUnpaused" | "ProcessAttached" | "ProcessDetached"
  | "ContainerRenamed" | "NetworkAttached" | "NetworkDetached";

/**
 * When the journal may hold an event: in the statuses `in` (any status when absent), and only
 * while one of the intents `after` is pending (an outcome answers its intent).
 */
export interface EventRule {
  in?: readonly LifecycleStatus[];
  after?: readonly LifecycleEventType[];
}

export interface Lifecycle {
  /** The statuses each command runs in. Outside them a command is refused, unless it is a no-op there. */
  commands: Record<CommandType, readonly LifecycleStatus[]>;
  /** The statuses in which a command is accepted and appends nothing (an idempotent stop, as in Apple's service). */
  noop: Partial<Record<CommandType, readonly LifecycleStatus[]>>;
  /** startProcess, finer: the init process starts in these statuses, an exec process in those. */
  start: { init: readonly LifecycleStatus[]; exec: readonly LifecycleStatus[] };
  /** Reads that need a live init (the route refuses them elsewhere). */
  reads: { statistics: readonly LifecycleStatus[] };
  /** Which events the journal may hold when: the same machine read backwards. */
  events: Record<LifecycleEventType, EventRule>;
  /** Statuses in which a runtime service may own a sandbox for the container. */
  hasSandbox: readonly LifecycleStatus[];
  /** Statuses in which an init may be alive or about to be (recovery declares it lost when its service is gone). */
  initMayBeAlive: readonly LifecycleStatus[];
  /** Statuses in which init has started and not yet been seen to stop (a SIGKILL's reply waits while it is in one). */
  initStarted: readonly LifecycleStatus[];
}

const commands: Lifecycle["commands"] = {
  create: ["none", "deleted"],
  bootstrap: ["created"],
  startProcess: ["booted", "running"],
  createProcess: ["booted", "running"],
  kill: ["running", "stopping"],
  stop: ["booted", "running", "paused"],
  shutdown: ["created", "booted", "stopped"],
  delete: ["created", "stopped"],
  pause: ["running"],
  unpause: ["paused"],
  // A client attaches to init before its start (`run -i`), or to any process while it runs.
  attach: ["booted", "running", "paused"],
  // A client leaves whenever it does: also after its process ended, or its --rm container went.
  detach: ["created", "booting", "booted", "running", "paused", "stopping", "stopped", "shuttingDown", "deleted"],
  // A name is not part of the runtime (runc, conmon and the cgroup know the id): any live container.
  rename: ["created", "booting", "booted", "running", "paused", "stopping", "stopped", "shuttingDown"],
};

const initMayBeAlive: readonly LifecycleStatus[] = ["booted", "running", "paused", "stopping"];

export const LIFECYCLE: Lifecycle = {
  commands,
  noop: { stop: ["created", "stopped", "stopping"] },
  start: { init: ["booted"], exec: ["running"] },
  reads: { statistics: ["running"] },
  events: {
    ContainerCreated: { in: commands.create },
    BootstrapRequested: { in: commands.bootstrap },
    ContainerBooted: { after: ["BootstrapRequested"] },
    BootstrapFailed: { after: ["BootstrapRequested"] },
    ProcessCreated: { in: commands.createProcess },
    ProcessStartRequested: { in: commands.startProcess },
    ProcessStarted: { after: ["ProcessStartRequested"] },
    ProcessStartFailed: { after: ["ProcessStartRequested"] },
    SignalSent: { in: commands.kill },
    ProcessExited: {},
    StopRequested: { in: commands.stop },
    ContainerStopped: { in: ["stopping"] },
    ShutdownRequested: { in: commands.shutdown },
    ContainerShutdown: { after: ["ShutdownRequested"] },
    ContainerDeleted: { in: commands.delete },
    ContainerLost: { in: initMayBeAlive },
    RestartScheduled: { in: ["stopped"] },
    PauseRequested: { in: commands.pause },
    UnpauseRequested: { in: commands.unpause },
    ContainerPaused: { after: ["PauseRequested", "UnpauseRequested"], in: ["running", "paused"] },
    ContainerUnpaused: { after: ["PauseRequested", "UnpauseRequested"], in: ["running", "paused"] },
    ProcessAttached: { in: commands.attach },
    ProcessDetached: { in: commands.detach },
    ContainerRenamed: { in: commands.rename },
    // Attached while the sandbox is being booted (before ContainerBooted), or by `network connect`
    // while it runs; detached once it is gone, or by `network disconnect`.
    NetworkAttached: { in: ["booting", "running"] },
    NetworkDetached: { in: commands.rename },
  },
  hasSandbox: ["booting", "booted", "running", "paused", "stopping", "shuttingDown"],
  initMayBeAlive,
  initStarted: ["running", "paused", "stopping"],
};

/** Whether `command` runs in `status` (a no-op does not count). */
export const allows = (command: CommandType, status: LifecycleStatus, table: Lifecycle = LIFECYCLE): boolean => table.commands[command].includes(status);

/** Whether `command` is an accepted no-op in `status`. */
export const isNoop = (command: CommandType, status: LifecycleStatus, table: Lifecycle = LIFECYCLE): boolean => table.noop[command]?.includes(status) ?? false;

/** The status is one with no container (an unused or a deleted id). */
export const isAbsent = (status: LifecycleStatus): boolean => status === "none" || status === "deleted";

export const hasSandbox = (status: LifecycleStatus, table: Lifecycle = LIFECYCLE): boolean => table.hasSandbox.includes(status);
export const initMayBeAliveIn = (status: LifecycleStatus, table: Lifecycle = LIFECYCLE): boolean => table.initMayBeAlive.includes(status);
export const initStartedIn = (status: LifecycleStatus, table: Lifecycle = LIFECYCLE): boolean => table.initStarted.includes(status);
