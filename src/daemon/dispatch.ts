// The command path: decide → append → fold, for a command the route already parsed
// (src/commands/parse.ts). The only place commands meet the
// journal. The projection is folded synchronously after each append, so the next command for
// the same container sees it (commands for one container are serialized by the caller).
import { containerDecider, type ContainerDecider } from "../commands/decide.js";
import type { Command } from "../commands/commands.js";
import { BerthError } from "../model/errors.js";
import { containerStream, type Actor, type StoredEvent } from "../events/catalogue.js";
import type { ExpectedVersion, Journal } from "../events/journal.js";
import type { ContainerState } from "../projections/container.js";
import { apply, type Projection } from "../projections/index.js";

export interface CommandMeta {
  commandId?: string;
  correlationId?: string;
  /** The event that caused the command, when the daemon issues it itself (an auto-remove). */
  causationId?: string;
  actor?: Actor;
  time?: number;
}

export interface Dispatched {
  events: StoredEvent[];
  state: ContainerState | undefined;
  /** The command id had been journaled before: the original events are returned. */
  duplicate: boolean;
}

/**
 * The version the next append to a container's stream expects: the one place it is computed,
 * for commands (here) and for the daemon's facts (store.ts). The projection knows a live
 * container's version; a container created again after a delete continues its old stream.
 */
export function expectedVersion(journal: Journal, projection: Projection, id: string): ExpectedVersion {
  const version = projection.containers[id]?.version ?? journal.streamVersion(containerStream(id));
  return version > 0 ? version : "noStream";
}

/** `decider` decides; the projection folds with the same evolve (projections/index.ts). */
export function dispatch(journal: Journal, projection: Projection, command: Command, meta: CommandMeta = {}, decider: ContainerDecider = containerDecider): Dispatched {
  const before = projection.containers[command.id];
  const decision = decider.decide(before ?? decider.initialState, command);
  if (!decision.ok) {
    // A retry of a command that was journaled returns its original result, even though the
    // state has moved on and the decider would now refuse it. (Accepted retries are caught
    // inside the append's transaction.)
    const prior = meta.commandId ? journal.eventsForCommand(meta.commandId) : [];
    if (prior.length > 0) return { events: prior, state: before, duplicate: true };
    throw BerthError.from(decision.error);
  }
  if (decision.events.length === 0) return { events: [], state: before, duplicate: false };
  const result = journal.append(containerStream(command.id), decision.events, expectedVersion(journal, projection, command.id), meta);
  if (result.duplicate) return { events: result.events, state: before, duplicate: true };
  for (const event of result.events) apply(projection, event);
  return { events: result.events, state: projection.containers[command.id], duplicate: false };
}
