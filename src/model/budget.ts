// Every deadline of a lifecycle operation, derived from the one budget its request carries. Each
// deadline is measured from the start of the operation and each inner wait ends before the one
// around it, so the innermost step that stalls is the one that reports the timeout: a stop whose
// SIGKILL'd init never exits fails as "kill timed out" inside the reactor, not as a route or
// client timeout with the effect still running behind it.

/** setTimeout's largest delay (a signed 32-bit count of ms); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The longest grace a stop may ask for; the decider refuses more. */
export const MAX_STOP_GRACE_SECONDS = 86_400;

/** SIGKILL → the exit recorded by the runtime service. */
const KILL_MS = 60_000;
/** The exit recorded → the sandbox torn down (runc delete, cgroups, rootfs). */
const TEARDOWN_MS = 60_000;
/** An effect done → its outcome journaled and seen by the route. */
const JOURNAL_MS = 5_000;
/** The route's answer → the frame at the client. */
const REPLY_MS = 5_000;
/** An intent appended → its outcome, for the operations that have no grace (bootstrap, start, pause, shutdown). */
const OUTCOME_MS = 120_000;

/** Deadlines of a stop, each in ms from the request's start and each later than the one before. */
export interface StopBudget {
  /** The stop signal sent → SIGKILL, unless init has exited. */
  graceMs: number;
  /** By then the SIGKILL'd init's exit is recorded. */
  killMs: number;
  /** By then the runtime service has torn the sandbox down (its own stop call ends). */
  teardownMs: number;
  /** By then the route has the outcome (ContainerStopped or ContainerLost). */
  outcomeMs: number;
  /** The route's IPC deadline: it answers with a typed timeout by then. */
  routeDeadlineMs: number;
  /** The client's own timeout, after the route's, so the client hears the daemon's answer. */
  clientMs: number;
}

export function stopBudget(graceSeconds: number): StopBudget {
  const graceMs = Math.max(0, graceSeconds) * 1000;
  const killMs = graceMs + KILL_MS;
  const teardownMs = killMs + TEARDOWN_MS;
  const outcomeMs = teardownMs + JOURNAL_MS;
  const routeDeadlineMs = outcomeMs + REPLY_MS;
  return { graceMs, killMs, teardownMs, outcomeMs, routeDeadlineMs, clientMs: routeDeadlineMs + REPLY_MS };
}

/**
 * The stop a route cannot size before the decider has resolved its grace (no -t: the container's
 * configured stop timeout): the outer deadlines cover the longest grace allowed.
 */
export const UNSIZED_STOP = stopBudget(MAX_STOP_GRACE_SECONDS);

/** Deadlines of `delete --force`, in ms from the request's start. */
export interface ForceDeleteBudget {
  /** By then whatever was in flight (a bootstrap, a stop, a shutdown) has settled. */
  settleMs: number;
  /** By then the SIGKILL stop that follows has its outcome. */
  outcomeMs: number;
  routeDeadlineMs: number;
  clientMs: number;
}

function forceDeleteBudget(): ForceDeleteBudget {
  const settleMs = OUTCOME_MS;
  const outcomeMs = settleMs + stopBudget(0).outcomeMs;
  const routeDeadlineMs = outcomeMs + REPLY_MS;
  return { settleMs, outcomeMs, routeDeadlineMs, clientMs: routeDeadlineMs + REPLY_MS };
}

export const FORCE_DELETE_BUDGET: ForceDeleteBudget = forceDeleteBudget();

/** Deadlines of the operations without a grace, in ms from the request's start. */
export const LIFECYCLE_BUDGET = { outcomeMs: OUTCOME_MS, routeDeadlineMs: OUTCOME_MS + REPLY_MS } as const;

/**
 * After a process has exited, how long a follow of its output may go without an entry before it
 * is given up for the log files, which hold every line once the exit is recorded: the daemon's
 * `run` relay and the CLI's `start -a` / `exec` attach both use it.
 */
export const IDLE_AFTER_EXIT_MS = 5_000;

