// Bringing a container to running, written once: from created (bootstrap, start), booted (start)
// or stopped (shutdown, bootstrap, start). Each step is a command through the decider, journaled
// and performed by the reactor exactly as if it had been asked for on its own. The `start` and
// `run` routes use it for a client (run-route.ts), the restart policy for the daemon
// (Reactor.restart); each passes how one step runs, as whom, and what ends the sequence.
import type { Command } from "../commands/commands.js";
import { allows, LIFECYCLE, type LifecycleStatus } from "../model/lifecycle.js";

export interface StartOptions {
  /** The bootstrap is part of a `berth run` (recovery releases a sandbox whose run died before its start). */
  run?: boolean;
  dynamicEnv?: Record<string, string>;
  /** Stop once booted: init's start is the client's, once it has attached (`run -i`). */
  untilBooted?: boolean;
}

/** Runs one command and its effect; false ends the sequence there (the step failed). A refusal throws. */
export type Step = (command: Command) => Promise<boolean>;

/**
 * The commands that take a container in `status` to running, read off the lifecycle table: the
 * start where init may start, a bootstrap first where one is allowed, a shutdown before that
 * where one is. Anywhere else the start alone is sent, for the decider to refuse with its reason.
 */
export function startSteps(id: string, status: LifecycleStatus, opts: StartOptions = {}): Command[] {
  const start: Command[] = opts.untilBooted ? [] : [{ type: "startProcess", id, processId: id }];
  if (LIFECYCLE.start.init.includes(status)) return start;
  const boot: Command = { type: "bootstrap", id, dynamicEnv: opts.dynamicEnv ?? {}, ...(opts.run ? { run: true } : {}) };
  if (allows("bootstrap", status)) return [boot, ...start];
  if (allows("shutdown", status)) return [{ type: "shutdown", id }, boot, ...start];
  return start.length ? start : [{ type: "startProcess", id, processId: id }];
}

/** Runs the steps from `status`, one after the other, until one fails. Resolves with whether all ran. */
export async function startContainer(id: string, status: LifecycleStatus, step: Step, opts: StartOptions = {}): Promise<boolean> {
  for (const command of startSteps(id, status, opts)) if (!(await step(command))) return false;
  return true;
}

/**
 * A client's one request is several commands: each gets the request's command id with the
 * step's name, so the journal still recognises a retried request, step by step.
 */
export const stepCommandId = (commandId: string | undefined, command: Command): string | undefined => (commandId === undefined ? undefined : `${commandId}:${command.type}`);
