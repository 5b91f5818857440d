// Tamper evidence: recompute the hash chain from the first row and check that positions are
// contiguous, that the indexed columns agree with the hashed body, and that the recorded head
// matches the last row (so a deleted tail is caught too).
import type Database from "better-sqlite3";
import { chainHash, GENESIS_HASH } from "./hash.js";
import { unpackBody, type BodyFields } from "./codec.js";

export type VerifyResult =
  | { ok: true; count: number; head: { position: number; hash: string } }
  | { ok: false; position: number; reason: string };

interface Row {
  position: number;
  event_id: string;
  stream_id: string;
  version: number;
  type: string;
  time: number;
  schema_version: number;
  command_id: string | null;
  actor_uid: number | null;
  body: Buffer;
  hash: Buffer;
}

export function verifyChain(db: Database.Database): VerifyResult {
  let prev: Uint8Array = GENESIS_HASH;
  let expectedPosition = 1;
  let count = 0;
  for (const row of db.prepare("SELECT * FROM events ORDER BY position").iterate() as IterableIterator<Row>) {
    if (row.position !== expectedPosition) {
      return { ok: false, position: expectedPosition, reason: `position ${expectedPosition} is missing (next row is ${row.position})` };
    }
    const hash = chainHash(prev, { position: row.position, streamId: row.stream_id, version: row.version, type: row.type, body: row.body });
    if (!Buffer.from(row.hash).equals(hash)) {
      return { ok: false, position: row.position, reason: "hash mismatch: this row was altered, reordered or inserted" };
    }
    const mismatch = columnMismatch(row);
    if (mismatch) return { ok: false, position: row.position, reason: `column ${mismatch} disagrees with the hashed body` };
    prev = hash;
    expectedPosition += 1;
    count += 1;
  }
  // AUTOINCREMENT's sequence remembers the highest position ever used, so a deleted tail shows.
  const sequence = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
  const last = expectedPosition - 1;
  if ((sequence?.seq ?? 0) !== last) {
    return { ok: false, position: last + 1, reason: `positions up to ${sequence?.seq ?? 0} were written but the chain ends at ${last}: rows were removed from the end` };
  }
  return { ok: true, count, head: { position: last, hash: Buffer.from(prev).toString("hex") } };
}

function columnMismatch(row: Row): string | undefined {
  let body: BodyFields;
  try {
    body = unpackBody(row.body);
  } catch {
    return "body (not msgpack)";
  }
  if (body.eventId !== row.event_id) return "event_id";
  if (body.time !== row.time) return "time";
  if (body.schemaVersion !== row.schema_version) return "schema_version";
  if ((body.commandId ?? null) !== row.command_id) return "command_id";
  if ((body.actor?.uid ?? null) !== row.actor_uid) return "actor_uid";
  return undefined;
}
