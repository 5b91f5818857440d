// Export and import of a whole journal as one file: a magic line, then length-prefixed plain
// msgpack frames (a header, one frame per row with its stored body and hash, a trailer with the
// head). Import re-verifies the chain row by row and commits all or nothing.
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { BerthError } from "../model/errors.js";
import { decode, encode, unpackBody } from "./codec.js";
import { chainHash, GENESIS_HASH } from "./hash.js";
import type { Journal, StoredRow } from "./journal.js";

const MAGIC = Buffer.from("BERTH-JOURNAL 1\n");

interface RowFrame {
  p: number;
  s: string;
  v: number;
  y: string;
  b: Buffer;
  h: Buffer;
}

interface Trailer {
  end: true;
  count: number;
  head: { position: number; hash: string };
}

export function exportJournal(journal: Journal, file: string): { count: number; head: { position: number; hash: string } } {
  const check = journal.verify();
  if (!check.ok) throw new BerthError("invalidState", `refusing to export a journal that fails verification at position ${check.position}: ${check.reason}`);
  const fd = openSync(file, "w");
  try {
    writeSync(fd, MAGIC);
    writeFrame(fd, { format: "berth-journal", formatVersion: 1 });
    for (const r of journal.storedRows()) writeFrame(fd, { p: r.position, s: r.stream_id, v: r.version, y: r.type, b: r.body, h: r.hash } satisfies RowFrame);
    const trailer: Trailer = { end: true, count: check.count, head: check.head };
    writeFrame(fd, trailer);
  } finally {
    closeSync(fd);
  }
  return { count: check.count, head: check.head };
}

/** Imports into an empty journal. Any mismatch rejects the whole file with invalidArgument. */
export function importJournal(journal: Journal, file: string): { count: number; head: { position: number; hash: string } } {
  if (journal.head().position !== 0) throw new BerthError("invalidState", `import needs an empty journal; ${journal.path} already holds ${journal.head().position} events`);
  const frames = readFrames(readFileSync(file), file);
  let header: { format?: string } | undefined;
  try {
    header = frames.next().value as { format?: string } | undefined;
  } catch {
    // handled below: an undecodable header is not a berth journal export
  }
  if (header?.format !== "berth-journal") throw new BerthError("invalidArgument", `${file} is not a berth journal export`);
  // The frames are checked as the journal's restore consumes them, inside its transaction: the
  // first bad frame throws, and nothing is imported.
  let imported: { count: number; head: { position: number; hash: string } } | undefined;
  function* checkedRows(): Generator<StoredRow> {
    let prev: Uint8Array = GENESIS_HASH;
    let count = 0;
    for (const frame of frames) {
      if ((frame as Trailer).end === true) {
        const trailer = frame as Trailer;
        const hash = Buffer.from(prev).toString("hex");
        if (trailer.count !== count || trailer.head?.position !== count || trailer.head.hash !== hash) throw new BerthError("invalidArgument", `${file}: trailer says ${trailer.count} events ending in ${trailer.head.hash}, found ${count} ending in ${hash}`);
        imported = { count, head: { position: count, hash } };
        return;
      }
      const row = frame as RowFrame;
      const expected = chainHash(prev, { position: row.p, streamId: row.s, version: row.v, type: row.y, body: row.b });
      if (row.p !== count + 1 || !expected.equals(row.h)) throw new BerthError("invalidArgument", `${file}: the hash chain breaks at position ${row.p}`);
      const body = unpackBody(row.b);
      yield {
        position: row.p, event_id: body.eventId, stream_id: row.s, version: row.v, type: row.y, schema_version: body.schemaVersion,
        time: body.time, command_id: body.commandId ?? null, actor_uid: body.actor?.uid ?? null, body: row.b, hash: row.h,
      };
      prev = expected;
      count += 1;
    }
    throw new BerthError("invalidArgument", `${file} is truncated: no trailer after ${count} events`);
  }
  try {
    journal.restore(checkedRows());
  } catch (err) {
    // Any damage (a frame that does not decode, a field of the wrong type) rejects the file.
    if (err instanceof BerthError) throw err;
    throw new BerthError("invalidArgument", `${file} is damaged: ${(err as Error).message}`);
  }
  return imported!;
}

function writeFrame(fd: number, value: unknown): void {
  const body = encode(value);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  writeSync(fd, len);
  writeSync(fd, body);
}

function* readFrames(bytes: Buffer, file: string): Generator<unknown> {
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new BerthError("invalidArgument", `${file} is not a berth journal export (bad magic)`);
  let offset = MAGIC.length;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) throw new BerthError("invalidArgument", `${file} is truncated at byte ${offset}`);
    const len = bytes.readUInt32BE(offset);
    if (offset + 4 + len > bytes.length) throw new BerthError("invalidArgument", `${file} is truncated at byte ${offset}`);
    yield decode(bytes.subarray(offset + 4, offset + 4 + len));
    offset += 4 + len;
  }
}
