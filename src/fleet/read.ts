// Fleet-wide audit: the events of every node (or one), read from the fleet stream as the
// events the local journal would give, each with the node that shipped it. `berth events
// --fleet` and `history --fleet` filter them as the daemon's `events` route filters the journal.
import type { StoredEvent } from "../events/catalogue.js";
import { toStoredEvent } from "../events/journal-read.js";
import { openFleet, readSubjects, type FleetTarget } from "./nats.js";
import { escapeToken, SUBJECT_ROOT } from "./subject.js";

export interface FleetQuery {
  node?: string;
  container?: string;
  after?: number;
  upTo?: number;
  since?: number;
  until?: number;
  types?: string[];
  actorUid?: number;
  follow?: boolean;
}

export type FleetEvent = StoredEvent & { node: string };

/** The narrowest subject filter the query allows: the server sends only those messages. */
export function fleetFilter(q: Pick<FleetQuery, "node" | "container">): string {
  const node = q.node === undefined ? "*" : escapeToken(q.node);
  return q.container === undefined ? `${SUBJECT_ROOT}.${node}.>` : `${SUBJECT_ROOT}.${node}.container.${escapeToken(q.container)}`;
}

/** The rest of the query, as the journal's read filter applies it (bounds inclusive, `after` exclusive). */
function matches(e: StoredEvent, q: FleetQuery): boolean {
  if (q.after !== undefined && e.position <= q.after) return false;
  if (q.upTo !== undefined && e.position > q.upTo) return false;
  if (q.since !== undefined && e.time < q.since) return false;
  if (q.until !== undefined && e.time > q.until) return false;
  if (q.types?.length && !q.types.includes(e.type)) return false;
  if (q.actorUid !== undefined && e.actor?.uid !== q.actorUid) return false;
  return true;
}

export async function* fleetEvents(target: FleetTarget, q: FleetQuery, onCancel?: (cancel: () => void) => void): AsyncGenerator<FleetEvent> {
  const fleet = await openFleet(target, "berth events");
  try {
    for await (const { row, node } of readSubjects(fleet, fleetFilter(q), q.follow === true, onCancel)) {
      // A bounded read of one node ends at its upper position bound.
      if (q.node !== undefined && q.upTo !== undefined && row.position > q.upTo && !q.follow) break;
      const e = toStoredEvent(row);
      if (matches(e, q)) yield { ...e, node };
    }
  } finally {
    await fleet.nc.close().catch(() => {});
  }
}
