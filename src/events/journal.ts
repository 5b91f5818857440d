// The journal: berth's only source of truth. An append-only SQLite table of events with a
// SHA-256 hash chain, written by one process at a time (see lock.ts). This file and the
// lock are the only places that talk to better-sqlite3 directly.
import Database from "better-sqlite3";
import Emittery from "emittery";
import { Kysely, Migrator, SqliteAdapter, SqliteDialect, type DialectAdapter } from "kysely";
import { randomBytes } from "node:crypto";
import { migrations } from "../../migrations/index.js";
import { BerthError } from "../errors.js";
import { SCHEMA_VERSIONS, type Actor, type BerthEvent, type EventType, type StoredEvent } from "./catalogue.js";
import { commandEventId, encode, packBody, unpackBodyInto, type BodyFields } from "./codec.js";
import { verifyChain, type VerifyResult } from "./verify.js";
import { chainHash, GENESIS_HASH } from "./hash.js";
import { JournalIdentity } from "./identity.js";
import { openSnapshot, readSnapshotRows, writeSnapshotRow, type SnapshotRow } from "./snapshot.js";
import { acquireJournalLock, type JournalLock } from "./lock.js";
import type { JournalSchema } from "./schema.js";
import { upcast } from "./upcast.js";

export type SyncMode = "full" | "normal";

export interface OpenOptions {
  /** FULL (default) survives power loss; NORMAL may lose the last commits on power loss, never on a crash. */
  sync?: SyncMode;
  /** Take exclusive ownership (default). Tests of the append path under contention turn it off. */
  exclusive?: boolean;
  readonly?: boolean;
}

/** any | noStream (must not exist) | exists (must exist) | exact version. */
export type ExpectedVersion = "any" | "noStream" | "exists" | number;

export interface AppendMeta {
  commandId?: string;
  correlationId?: string;
  causationId?: string;
  actor?: Actor;
  /** Milliseconds since the epoch; defaults to now. */
  time?: number;
  /** One per event; default random. Supplied by tests that need byte-identical journals. */
  eventIds?: string[];
}

export interface AppendOptions {
  /** Advance a consumer's checkpoint in the same transaction as the append. */
  checkpoint?: { name: string; position: number };
  /** Positions start above this one: the daemon's accepted loss (docs/journal.md, Lost tails). */
  above?: number;
}

export interface AppendResult {
  events: StoredEvent[];
  /** The stream's version after the append. */
  version: number;
  /** True when the command id had already been journaled: nothing was appended. */
  duplicate: boolean;
}

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

export class WrongExpectedVersion extends BerthError {
  constructor(readonly streamId: string, readonly expected: ExpectedVersion, readonly actual: number) {
    super("invalidState", `append to ${streamId} expected ${describeExpected(expected)} but the stream is at version ${actual}`);
  }
}

function describeExpected(expected: ExpectedVersion): string {
  if (expected === "noStream") return "no stream";
  if (expected === "exists") return "an existing stream";
  if (expected === "any") return "any version";
  return `version ${expected}`;
}

type RawRow = [position: number, stream_id: string, version: number, type: string, schema_version: number, hexBody: string];

interface EventRow {
  position: number;
  stream_id: string;
  version: number;
  type: string;
  schema_version: number;
  body: Buffer;
}

// Event ids are 12 random bytes. randomBytes() per id costs ~9 µs (a call into OpenSSL each
// time), so ids are cut from a pool refilled 256 ids at a time: just as random, far cheaper.
const ID_BYTES = 12;
let idPool = Buffer.alloc(0);
let idOffset = 0;

export function newEventId(): string {
  if (idOffset + ID_BYTES > idPool.length) {
    idPool = randomBytes(ID_BYTES * 256);
    idOffset = 0;
  }
  idOffset += ID_BYTES;
  return idPool.toString("base64url", idOffset - ID_BYTES, idOffset);
}

export class Journal {
  readonly db: Database.Database;
  /** Typed, async reads and migrations. Appends stay on the synchronous better-sqlite3 path. */
  readonly kysely: Kysely<JournalSchema>;
  private readonly bell = new Emittery<{ appended: number }>();
  private readonly lock?: JournalLock;
  private readonly stmts;
  /** Built once: better-sqlite3's transaction() allocates four wrappers per call. */
  private readonly appendTx;
  /** The file a writer opened (device, inode): appends stop once the path holds another (identity.ts). */
  readonly identity: JournalIdentity | undefined;

  private constructor(readonly path: string, db: Database.Database, lock: JournalLock | undefined) {
    this.db = db;
    this.lock = lock;
    this.kysely = new Kysely<JournalSchema>({ dialect: new TransactionalSqliteDialect(db) });
    this.stmts = {
      streamVersion: db.prepare<[string], { version: number }>("SELECT version FROM events WHERE stream_id = ? ORDER BY version DESC LIMIT 1"),
      byEventId: db.prepare<[string], EventRow & { command_id: string | null }>("SELECT * FROM events WHERE event_id = ?"),
      // Served by the partial index of migrations/002: commands whose event ids are not derived.
      byCommandOtherIds: db.prepare<[string], EventRow>("SELECT * FROM events WHERE command_id = ? AND substr(event_id, 1, 1) <> ':' ORDER BY position"),
      head: db.prepare<[], { position: number; hash: Buffer }>("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"),
      hashAt: db.prepare<[number], { hash: Buffer }>("SELECT hash FROM events WHERE position = ?"),
      // AUTOINCREMENT's memory of the highest position ever written (rows deleted from the end
      // leave it behind); positions are computed here, since the hash covers the position.
      sequence: db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
      insert: db.prepare(
        "INSERT INTO events (position, event_id, stream_id, version, type, schema_version, time, command_id, actor_uid, body, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
      ),
      setCheckpoint: db.prepare("INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position"),
      readStream: db.prepare<[string, number], EventRow>("SELECT * FROM events WHERE stream_id = ? AND version >= ? ORDER BY version"),
      // Only the columns a fold needs. The body comes out as hex text: better-sqlite3 gives each
      // BLOB its own Buffer and backing store, which cost more to make and collect (~2 us a row
      // measured) than a string decoded into one reused buffer (codec.ts).
      readAfter: db.prepare<[number, number], RawRow>("SELECT position, stream_id, version, type, schema_version, hex(body) FROM events WHERE position > ? ORDER BY position LIMIT ?").raw(true),
    };
    this.appendTx = db.transaction(this.appendInTransaction.bind(this));
    this.identity = db.readonly ? undefined : JournalIdentity.capture(path);
  }

  static async open(path: string, options: OpenOptions = {}): Promise<Journal> {
    const lock = options.exclusive === false || options.readonly ? undefined : acquireJournalLock(path);
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
      db.pragma("busy_timeout = 5000");
      if (!options.readonly) {
        db.pragma("journal_mode = WAL");
        db.pragma(`synchronous = ${options.sync === "normal" ? "NORMAL" : "FULL"}`);
      }
      if (!options.readonly) await migrate(db);
      return new Journal(path, db, lock);
    } catch (err) {
      db?.close();
      lock?.release();
      throw toJournalError(err, `cannot open journal ${path}`);
    }
  }

  close(): void {
    this.bell.clearListeners();
    this.db.close();
    this.lock?.release();
  }

  /**
   * Appends events to one stream under BEGIN IMMEDIATE, after checking the expected version.
   * A command id that was already journaled returns the original events and appends nothing.
   */
  append(streamId: string, events: BerthEvent[], expected: ExpectedVersion, meta: AppendMeta = {}, options: AppendOptions = {}): AppendResult {
    this.identity?.assert();
    let result: AppendResult;
    try {
      result = this.appendTx.immediate(streamId, events, expected, meta, options);
    } catch (err) {
      throw toJournalError(err, `append to ${streamId} failed; nothing was appended`);
    }
    // Nobody listening (the daemon's usual case) means nothing to ring: emittery's emit costs
    // about as much as the rest of the append's JavaScript.
    if (!result.duplicate && result.events.length > 0 && this.bell.listenerCount("appended") > 0) {
      void this.bell.emit("appended", result.events[result.events.length - 1]!.position);
    }
    return result;
  }

  /** The body of `append`, run inside its BEGIN IMMEDIATE transaction. */
  private appendInTransaction(streamId: string, events: BerthEvent[], expected: ExpectedVersion, meta: AppendMeta, options: AppendOptions): AppendResult {
    if (meta.commandId) {
      const prior = this.commandRows(meta.commandId);
      if (prior.length > 0) {
        const events = prior.map(toStoredEvent);
        return { events, version: events[events.length - 1]!.version, duplicate: true };
      }
    }
    const current = this.stmts.streamVersion.get(streamId)?.version ?? 0;
    checkExpected(streamId, expected, current);
    const head = this.stmts.head.get() ?? { position: 0, hash: GENESIS_HASH };
    let prevHash: Uint8Array = head.hash;
    // Never head+1 blindly: a position once written (or witnessed) is never handed out again.
    let position = Math.max(head.position, this.stmts.sequence.get()?.seq ?? 0, options.above ?? 0);
    const time = meta.time ?? Date.now();
    const { commandId, correlationId, causationId, actor } = meta;
    const stored: StoredEvent[] = [];
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      position += 1;
      const version = current + i + 1;
      const eventId = meta.eventIds?.[i] ?? (commandId ? commandEventId(commandId, i) : newEventId());
      const schemaVersion = SCHEMA_VERSIONS[event.type];
      // Fields listed one by one (an object spread of `meta` here cost ~10 µs per event).
      const body = packBody({ eventId, time, schemaVersion, data: event.data, commandId, correlationId, causationId, actor });
      const hash = chainHash(prevHash, { position, streamId, version, type: event.type, body });
      this.stmts.insert.run(position, eventId, streamId, version, event.type, schemaVersion, time, commandId ?? null, actor?.uid ?? null, body, hash);
      prevHash = hash;
      stored.push(appendedEvent(event, eventId, time, meta, position, streamId, version, schemaVersion));
    }
    if (options.checkpoint) this.stmts.setCheckpoint.run(options.checkpoint.name, options.checkpoint.position);
    return { events: stored, version: current + events.length, duplicate: false };
  }

  /** A doorbell: listeners learn the new head position and re-read from their own checkpoint. */
  subscribe(listener: (position: number) => void): () => void {
    return this.bell.on("appended", listener);
  }

  head(): { position: number; hash: string } {
    const head = this.stmts.head.get();
    return head ? { position: head.position, hash: head.hash.toString("hex") } : { position: 0, hash: GENESIS_HASH.toString("hex") };
  }

  streamVersion(streamId: string): number {
    return this.stmts.streamVersion.get(streamId)?.version ?? 0;
  }

  /** The events a command appended, if it was journaled (idempotent retries). */
  eventsForCommand(commandId: string): StoredEvent[] {
    return this.commandRows(commandId).map(toStoredEvent);
  }

  /**
   * The rows a command appended. Its events have ids derived from the command id (codec.ts),
   * so they are found through UNIQUE(event_id), one lookup per event; rows from before
   * migrations/002, or appended with caller-supplied ids, through the command_id index.
   */
  private commandRows(commandId: string): EventRow[] {
    const rows: EventRow[] = [];
    for (let i = 0; ; i++) {
      const row = this.stmts.byEventId.get(commandEventId(commandId, i));
      if (!row || row.command_id !== commandId) break;
      rows.push(row);
    }
    return rows.length > 0 ? rows : this.stmts.byCommandOtherIds.all(commandId);
  }

  readStream(streamId: string, fromVersion = 1): StoredEvent[] {
    return this.stmts.readStream.all(streamId, fromVersion).map(toStoredEvent);
  }

  /** Events after a global position, in position order, a page at a time. */
  *readAll(after = 0, pageSize = 10_000): Generator<StoredEvent> {
    let cursor = after;
    for (;;) {
      // Raw rows (arrays) skip building an object per row: this is the rebuild's hot path.
      const rows = this.stmts.readAfter.all(cursor, pageSize);
      for (const [position, streamId, version, type, schemaVersion, hexBody] of rows) yield storedEvent(position, streamId, version, type, schemaVersion, hexBody);
      if (rows.length < pageSize) return;
      cursor = rows[rows.length - 1]![0];
    }
  }

  /** Filtered reads (audit queries), through kysely's typed builder. */
  async query(filter: ReadFilter = {}): Promise<StoredEvent[]> {
    let q = this.kysely.selectFrom("events").select(["position", "stream_id", "version", "type", "schema_version", "body"]);
    if (filter.streamId !== undefined) q = q.where("stream_id", "=", filter.streamId);
    if (filter.types?.length) q = q.where("type", "in", filter.types);
    if (filter.since !== undefined) q = q.where("time", ">=", filter.since);
    if (filter.until !== undefined) q = q.where("time", "<=", filter.until);
    if (filter.after !== undefined) q = q.where("position", ">", filter.after);
    if (filter.upTo !== undefined) q = q.where("position", "<=", filter.upTo);
    if (filter.actorUid !== undefined) q = q.where("actor_uid", "=", filter.actorUid);
    q = q.orderBy("position");
    if (filter.limit !== undefined) q = q.limit(filter.limit);
    return (await q.execute()).map(toStoredEvent);
  }

  /** Recomputes the hash chain; names the first bad position. */
  verify(): VerifyResult {
    return verifyChain(this.db);
  }

  checkpoint(name: string): number {
    return this.db.prepare<[string], { position: number }>("SELECT position FROM checkpoints WHERE name = ?").get(name)?.position ?? 0;
  }

  /** The chain hash at a position (the genesis hash at 0), or undefined when there is no such row. */
  hashAt(position: number): Buffer | undefined {
    return position === 0 ? GENESIS_HASH : this.stmts.hashAt.get(position)?.hash;
  }

  /** The highest position ever written to this file (SQLite's AUTOINCREMENT sequence). */
  sequence(): number {
    return this.stmts.sequence.get()?.seq ?? 0;
  }

  /** Saves `state` as of `position` with the chain hash there and a digest (snapshot.ts). */
  saveSnapshot(name: string, position: number, state: unknown): void {
    const hash = this.hashAt(position);
    if (!hash) throw new BerthError("invalidArgument", `cannot snapshot at position ${position}: the journal has no event there`);
    writeSnapshotRow(this.db, name, position, hash, encode(state));
  }

  /** A snapshot that passes snapshot.ts's load checks, or undefined; `onReject` hears why one did not. */
  loadSnapshot<T>(name: string, onReject?: (reason: string) => void): { position: number; hash: string; state: T } | undefined {
    const row = readSnapshotRows(this.db, name)[0];
    const opened = row && openSnapshot<T>(row, this.hashAt(row.position), this.head().position);
    if (opened && !opened.ok) onReject?.(opened.reason);
    return opened?.ok ? opened : undefined;
  }

  /** Stored snapshot rows (all, or the one named), unchecked: for verify. */
  snapshotRows(name?: string): SnapshotRow[] {
    return readSnapshotRows(this.db, name);
  }
}

async function migrate(db: Database.Database): Promise<void> {
  const kysely = new Kysely<unknown>({ dialect: new TransactionalSqliteDialect(db) });
  const { error } = await new Migrator({ db: kysely, provider: { getMigrations: async () => migrations } }).migrateToLatest();
  if (error) throw error;
}

function checkExpected(streamId: string, expected: ExpectedVersion, current: number): void {
  const okay = expected === "any" || (expected === "noStream" ? current === 0 : expected === "exists" ? current > 0 : current === expected);
  if (!okay) throw new WrongExpectedVersion(streamId, expected, current);
}

/** Decodes a stored row into an event of the current schema (upcasting old payloads). */
export function toStoredEvent(row: EventRow): StoredEvent {
  return storedEvent(row.position, row.stream_id, row.version, row.type, row.schema_version, row.body);
}

/** `body` as bytes, or as hex (readAll). */
function storedEvent(position: number, streamId: string, version: number, type: string, schemaVersion: number, body: Uint8Array | string): StoredEvent {
  // Built field by field in one fixed order (no object spread), with the body's fields set on
  // the event itself rather than on an object of their own: this runs once per event in every
  // rebuild, and a stable shape keeps V8 on its fast path. The order is appendedEvent's.
  const event: Record<string, unknown> & Partial<BodyFields> = { type, data: undefined };
  unpackBodyInto(body, event);
  event.data = upcast(type, schemaVersion, event.data);
  event.position = position;
  event.streamId = streamId;
  event.version = version;
  event.schemaVersion = SCHEMA_VERSIONS[type as EventType];
  return event as unknown as StoredEvent;
}

/**
 * The stored form of an event just appended, built from what was packed instead of unpacking
 * the body again. It must equal what `toStoredEvent` reads back (the retry test compares them),
 * so it follows `unpackBody`: the correlation id defaults to the command id, the actor is
 * reduced to uid, gid and pid, and absent fields are left out.
 */
function appendedEvent(event: BerthEvent, eventId: string, time: number, meta: AppendMeta, position: number, streamId: string, version: number, schemaVersion: number): StoredEvent {
  const out: Record<string, unknown> = { type: event.type, data: event.data, eventId, time };
  if (meta.commandId != null) out.commandId = meta.commandId;
  const correlationId = meta.correlationId ?? meta.commandId;
  if (correlationId != null) out.correlationId = correlationId;
  if (meta.causationId != null) out.causationId = meta.causationId;
  if (meta.actor != null) out.actor = { uid: meta.actor.uid, gid: meta.actor.gid, pid: meta.actor.pid };
  out.position = position;
  out.streamId = streamId;
  out.version = version;
  out.schemaVersion = schemaVersion;
  return out as unknown as StoredEvent;
}

/** SQLite errors become typed errors a person can act on. */
function toJournalError(err: unknown, context: string): BerthError {
  if (err instanceof BerthError) return err;
  const code = (err as { code?: string }).code ?? "";
  const message = err instanceof Error ? err.message : String(err);
  if (code === "SQLITE_FULL") return new BerthError("internalError", `${context}: the disk is full (${message})`);
  if (code === "SQLITE_BUSY") return new BerthError("timeout", `${context}: the journal is busy (${message})`);
  if (code === "SQLITE_READONLY") return new BerthError("invalidState", `${context}: the journal is read-only (${message})`);
  if (code.startsWith("SQLITE_CONSTRAINT")) return new BerthError("exists", `${context}: ${message}`);
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") return new BerthError("invalidArgument", `${context}: not a berth journal (${message})`);
  return new BerthError("internalError", `${context}: ${message}`);
}

/** SQLite runs DDL transactionally, so each migration run is wrapped in a transaction (kysely's adapter says no). */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class TransactionalSqliteDialect extends SqliteDialect {
  constructor(database: Database.Database) {
    super({ database: database as never });
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalSqliteAdapter();
  }
}

