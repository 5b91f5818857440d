// Tamper evidence: recompute the hash chain from the first row and check that positions are
// contiguous, that the indexed columns agree with the hashed body, and that the recorded head
// matches the last row (so a deleted tail is caught too). The one gap allowed is the one an
// accepted loss names: a JournalLossAccepted right after the lost positions, hashed into the
// chain like any event (docs/journal.md, Lost tails).
import { chainHash, GENESIS_HASH } from "./hash.js";
import { unpackBody, type BodyFields } from "./codec.js";
import type { StoredRow } from "./journal-read.js";

/** A loss journaled by `berth daemon --accept-journal-loss`: the event's position and what it names. */
export interface AcceptedLoss {
  position: number;
  from: number;
  to: number;
}

export type VerifyResult =
  | { ok: true; count: number; head: { position: number; hash: string }; losses?: AcceptedLoss[] }
  | { ok: false; position: number; reason: string };

export const LOSS_EVENT = "JournalLossAccepted";

type Row = StoredRow;

/** `rows`: every row in position order; `sequence`: reads SQLite's AUTOINCREMENT sequence (after the rows). */
export function verifyChain(rows: Iterable<Row>, sequence: () => number): VerifyResult {
  let prev: Uint8Array = GENESIS_HASH;
  let expectedPosition = 1;
  let count = 0;
  const losses: AcceptedLoss[] = [];
  for (const row of rows) {
    const loss = row.type === LOSS_EVENT ? lossRange(row) : undefined;
    if (loss) losses.push({ position: row.position, ...loss });
    if (row.position !== expectedPosition && !(loss && loss.from <= expectedPosition && loss.to === row.position - 1)) {
      return { ok: false, position: expectedPosition, reason: `position ${expectedPosition} is missing (next row is ${row.position})` };
    }
    const hash = chainHash(prev, { position: row.position, streamId: row.stream_id, version: row.version, type: row.type, body: row.body });
    if (!Buffer.from(row.hash).equals(hash)) {
      return { ok: false, position: row.position, reason: "hash mismatch: this row was altered, reordered or inserted" };
    }
    const mismatch = columnMismatch(row);
    if (mismatch) return { ok: false, position: row.position, reason: `column ${mismatch} disagrees with the hashed body` };
    prev = hash;
    expectedPosition = row.position + 1;
    count += 1;
  }
  // AUTOINCREMENT's sequence remembers the highest position ever used, so a deleted tail shows.
  const written = sequence();
  const last = expectedPosition - 1;
  if (written !== last) {
    return { ok: false, position: last + 1, reason: `positions up to ${written} were written but the chain ends at ${last}: rows were removed from the end` };
  }
  const head = { position: last, hash: Buffer.from(prev).toString("hex") };
  return losses.length > 0 ? { ok: true, count, head, losses } : { ok: true, count, head };
}

/** The positions a loss event names, if its body says so (the chain check judges the bytes). */
function lossRange(row: Row): { from: number; to: number } | undefined {
  try {
    const data = unpackBody(row.body).data as { from?: unknown; to?: unknown };
    return Number.isSafeInteger(data.from) && Number.isSafeInteger(data.to) ? { from: data.from as number, to: data.to as number } : undefined;
  } catch {
    // An undecodable body has no range to name; the chain check reports the bytes.
    return undefined;
  }
}

function columnMismatch(row: Row): string | undefined {
  let body: BodyFields;
  try {
    body = unpackBody(row.body);
  } catch {
    // Reported as what it is: a body that is not msgpack.
    return "body (not msgpack)";
  }
  if (body.eventId !== row.event_id) return "event_id";
  if (body.time !== row.time) return "time";
  if (body.schemaVersion !== row.schema_version) return "schema_version";
  if ((body.commandId ?? null) !== row.command_id) return "command_id";
  if ((body.actor?.uid ?? null) !== row.actor_uid) return "actor_uid";
  return undefined;
}
