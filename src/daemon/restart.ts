// Restart policies, as a pure decision: given a container that has just stopped, should it be
// restarted, and after how long? Docker's rules: a user stop is never undone; on-failure counts
// only non-zero exits; the backoff doubles from 100 ms, is capped at 1 min, and resets once the
// container has stayed up for 10 s.
import type { ContainerState } from "../projections/container.js";

export const BACKOFF_START_MS = 100;
export const BACKOFF_CAP_MS = 60_000;
export const BACKOFF_RESET_AFTER_MS = 10_000;

export interface RestartDecision {
  attempt: number;
  delayMs: number;
}

export function nextRestart(state: ContainerState): RestartDecision | undefined {
  if (state.status !== "stopped" || state.stopRequested) return undefined;
  const policy = state.config.restart;
  const exitCode = state.exitCode ?? 0;
  const ranLong = state.startedAt !== undefined && state.finishedAt !== undefined && state.finishedAt - state.startedAt >= BACKOFF_RESET_AFTER_MS;
  const attempt = ranLong ? 1 : state.restartCount + 1;
  switch (policy.name) {
    case "no":
      return undefined;
    case "on-failure":
      if (exitCode === 0) return undefined;
      if (policy.maxRetries !== undefined && attempt > policy.maxRetries) return undefined;
      break;
    case "always":
    case "unless-stopped":
      break;
  }
  return { attempt, delayMs: Math.min(BACKOFF_CAP_MS, BACKOFF_START_MS * 2 ** (attempt - 1)) };
}

/** After a daemon restart: `always` comes back even after a user stop; `unless-stopped` does not. */
export function restartsWithDaemon(state: ContainerState): boolean {
  if (state.status !== "stopped") return false;
  if (state.config.restart.name === "always") return true;
  return state.config.restart.name === "unless-stopped" && !state.stopRequested;
}
