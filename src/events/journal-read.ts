// The journal's one read engine: every SELECT berth runs against the events, checkpoints and
// snapshots tables, as synchronous better-sqlite3 statements, and the decoding of a stored row
// into an event. The appends (journal-write.ts) read through it inside their transaction;
// callers outside the journal reach it only through the named methods of `Journal`.
import type Database from "better-sqlite3";
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from "kysely";
import { SCHEMA_VERSIONS, type EventType, type StoredEvent } from "./catalogue.js";
import { commandEventId, unpackBodyInto, type BodyFields } from "./codec.js";
import type { JournalSchema } from "./schema.js";
import type { SnapshotRow } from "./snapshot.js";
import { upcast } from "./upcast.js";

export interface ReadFilter {
  streamId?: string;
  types?: string[];
  /** Inclusive lower and upper bounds on the event time (ms). */
  since?: number;
  until?: number;
  /** Exclusive lower and inclusive upper bounds on the position. */
  after?: number;
  upTo?: number;
  actorUid?: number;
  limit?: number;
}

export interface EventRow {
  position: number;
  stream_id: string;
  version: number;
  type: string;
  schema_version: number;
  body: Buffer;
}

/** A row with every column, as stored: what verify and export read. */
export interface StoredRow extends EventRow {
  event_id: string;
  time: number;
  command_id: string | null;
  actor_uid: number | null;
  hash: Buffer;
}

export interface JournalStats {
  events: number;
  /** Times (ms) of the first and last event, null in an empty journal. */
  firstTime: number | null;
  lastTime: number | null;
  /** Event counts by type, most frequent first (then by name). */
  byType: { type: string; count: number }[];
}

type RawRow = [position: number, stream_id: string, version: number, type: string, schema_version: number, hexBody: string];

// Filtered reads are written with kysely's typed builder and only compiled by it (a driver that
// never runs anything): they execute here, synchronously, like every other read.
const builder = new Kysely<JournalSchema>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
});

export class JournalReads {
  private readonly stmts;

  constructor(private readonly db: Database.Database) {
    this.stmts = {
      streamVersion: db.prepare<[string], { version: number }>("SELECT version FROM events WHERE stream_id = ? ORDER BY version DESC LIMIT 1"),
      byEventId: db.prepare<[string], EventRow & { command_id: string | null }>("SELECT * FROM events WHERE event_id = ?"),
      // Served by the partial index of migrations/002: commands whose event ids are not derived.
      byCommandOtherIds: db.prepare<[string], EventRow>("SELECT * FROM events WHERE command_id = ? AND substr(event_id, 1, 1) <> ':' ORDER BY position"),
      head: db.prepare<[], { position: number; hash: Buffer }>("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"),
      hashAt: db.prepare<[number], { hash: Buffer }>("SELECT hash FROM events WHERE position = ?"),
      // AUTOINCREMENT's memory of the highest position ever written (rows deleted from the end
      // leave it behind); positions are computed by the appends, since the hash covers the position.
      sequence: db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
      checkpoint: db.prepare<[string], { position: number }>("SELECT position FROM checkpoints WHERE name = ?"),
      readStream: db.prepare<[string, number], EventRow>("SELECT * FROM events WHERE stream_id = ? AND version >= ? ORDER BY version"),
      // Only the columns a fold needs. The body comes out as hex text: better-sqlite3 gives each
      // BLOB its own Buffer and backing store, which cost more to make and collect (~2 us a row
      // measured) than a string decoded into one reused buffer (codec.ts).
      readAfter: db.prepare<[number, number], RawRow>("SELECT position, stream_id, version, type, schema_version, hex(body) FROM events WHERE position > ? ORDER BY position LIMIT ?").raw(true),
      allRows: db.prepare<[], StoredRow>("SELECT * FROM events ORDER BY position"),
      rowsAfter: db.prepare<[number, number], StoredRow>("SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?"),
      lastAtTime: db.prepare<[number], { p: number | null }>("SELECT max(position) AS p FROM events WHERE time <= ?"),
      byType: db.prepare<[], { type: string; count: number }>("SELECT type, count(*) AS count FROM events GROUP BY type ORDER BY count DESC, type"),
      span: db.prepare<[], { n: number; first: number | null; last: number | null }>("SELECT count(*) AS n, min(time) AS first, max(time) AS last FROM events"),
    };
  }

  head(): { position: number; hash: Buffer } | undefined {
    return this.stmts.head.get();
  }

  streamVersion(streamId: string): number {
    return this.stmts.streamVersion.get(streamId)?.version ?? 0;
  }

  hashAt(position: number): Buffer | undefined {
    return this.stmts.hashAt.get(position)?.hash;
  }

  sequence(): number {
    return this.stmts.sequence.get()?.seq ?? 0;
  }

  checkpoint(name: string): number {
    return this.stmts.checkpoint.get(name)?.position ?? 0;
  }

  /**
   * The rows a command appended. Its events have ids derived from the command id (codec.ts),
   * so they are found through UNIQUE(event_id), one lookup per event; rows from before
   * migrations/002, or appended with caller-supplied ids, through the command_id index.
   */
  commandRows(commandId: string): EventRow[] {
    const rows: EventRow[] = [];
    for (let i = 0; ; i++) {
      const row = this.stmts.byEventId.get(commandEventId(commandId, i));
      if (!row || row.command_id !== commandId) break;
      rows.push(row);
    }
    return rows.length > 0 ? rows : this.stmts.byCommandOtherIds.all(commandId);
  }

  readStream(streamId: string, fromVersion: number): StoredEvent[] {
    return this.stmts.readStream.all(streamId, fromVersion).map(toStoredEvent);
  }

  *readAll(after: number, pageSize: number): Generator<StoredEvent> {
    let cursor = after;
    for (;;) {
      // Raw rows (arrays) skip building an object per row: this is the rebuild's hot path.
      const rows = this.stmts.readAfter.all(cursor, pageSize);
      for (const [position, streamId, version, type, schemaVersion, hexBody] of rows) yield storedEvent(position, streamId, version, type, schemaVersion, hexBody);
      if (rows.length < pageSize) return;
      cursor = rows[rows.length - 1]![0];
    }
  }

  query(filter: ReadFilter): StoredEvent[] {
    let q = builder.selectFrom("events").select(["position", "stream_id", "version", "type", "schema_version", "body"]);
    if (filter.streamId !== undefined) q = q.where("stream_id", "=", filter.streamId);
    if (filter.types?.length) q = q.where("type", "in", filter.types);
    if (filter.since !== undefined) q = q.where("time", ">=", filter.since);
    if (filter.until !== undefined) q = q.where("time", "<=", filter.until);
    if (filter.after !== undefined) q = q.where("position", ">", filter.after);
    if (filter.upTo !== undefined) q = q.where("position", "<=", filter.upTo);
    if (filter.actorUid !== undefined) q = q.where("actor_uid", "=", filter.actorUid);
    q = q.orderBy("position");
    if (filter.limit !== undefined) q = q.limit(filter.limit);
    const { sql, parameters } = q.compile();
    return (this.db.prepare(sql).all(...parameters) as EventRow[]).map(toStoredEvent);
  }

  /** Every row with every column, in position order, one at a time. */
  rows(): IterableIterator<StoredRow> {
    return this.stmts.allRows.iterate();
  }

  /** At most `limit` rows with every column after a position: what the fleet shipper sends. */
  rowsAfter(after: number, limit: number): StoredRow[] {
    return this.stmts.rowsAfter.all(after, limit);
  }

  /** The journal's node UUID; undefined in a read-only open of a journal from before migrations/004. */
  nodeId(): string | undefined {
    const table = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'node_identity'").get();
    return table ? (this.db.prepare("SELECT uuid FROM node_identity WHERE id = 1").get() as { uuid: string } | undefined)?.uuid : undefined;
  }

  lastPositionAt(time: number): number {
    return this.stmts.lastAtTime.get(time)?.p ?? 0;
  }

  stats(): JournalStats {
    const span = this.stmts.span.get()!;
    return { events: span.n, firstTime: span.first, lastTime: span.last, byType: this.stmts.byType.all() };
  }

  /** Stored snapshot rows (all, in position order, or the one named), unchecked. */
  snapshotRows(name?: string): SnapshotRow[] {
    // A read-only open does not migrate: a journal from before migrations/003 has no such columns.
    const witnessed = this.db.prepare("SELECT name FROM pragma_table_info('snapshots') WHERE name = 'digest'").get() !== undefined;
    const columns = `SELECT name, position, body, ${witnessed ? "hash, digest" : "NULL AS hash, NULL AS digest"} FROM snapshots`;
    return (name === undefined ? this.db.prepare(`${columns} ORDER BY position, name`).all() : this.db.prepare(`${columns} WHERE name = ?`).all(name)) as SnapshotRow[];
  }
}

/** Decodes a stored row into an event of the current schema (upcasting old payloads). */
export function toStoredEvent(row: EventRow): StoredEvent {
  return storedEvent(row.position, row.stream_id, row.version, row.type, row.schema_version, row.body);
}

/** `body` as bytes, or as hex (readAll). */
function storedEvent(position: number, streamId: string, version: number, type: string, schemaVersion: number, body: Uint8Array | string): StoredEvent {
  // Built field by field in one fixed order (no object spread), with the body's fields set on
  // the event itself rather than on an object of their own: this runs once per event in every
  // rebuild, and a stable shape keeps V8 on its fast path. The order is appendedEvent's
  // (journal-write.ts).
  const event: Record<string, unknown> & Partial<BodyFields> = { type, data: undefined };
  unpackBodyInto(body, event);
  event.data = upcast(type, schemaVersion, event.data);
  event.position = position;
  event.streamId = streamId;
  event.version = version;
  event.schemaVersion = SCHEMA_VERSIONS[type as EventType];
  return event as unknown as StoredEvent;
}
