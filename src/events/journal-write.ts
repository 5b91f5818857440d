// The journal's writers, each under BEGIN IMMEDIATE: the append (every event berth journals,
// command or fact, goes through `append`), the verbatim restore of an export's rows (import),
// and the snapshot row. Reads inside a transaction go through the read engine.
import type Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import { BerthError } from "../model/errors.js";
import { SCHEMA_VERSIONS, type Actor, type BerthEvent, type StoredEvent } from "./catalogue.js";
import { commandEventId, packBody } from "./codec.js";
import { chainHash, GENESIS_HASH } from "./hash.js";
import { toStoredEvent, type JournalReads, type StoredRow } from "./journal-read.js";
import { snapshotDigest } from "./snapshot.js";

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

export class JournalWrites {
  private readonly stmts;
  /** Built once: better-sqlite3's transaction() allocates four wrappers per call. */
  private readonly appendTx;

  constructor(private readonly db: Database.Database, private readonly reads: JournalReads) {
    this.stmts = {
      insert: db.prepare(
        "INSERT INTO events (position, event_id, stream_id, version, type, schema_version, time, command_id, actor_uid, body, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
      ),
      setCheckpoint: db.prepare("INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position"),
    };
    this.appendTx = db.transaction(this.appendInTransaction.bind(this));
  }

  append(streamId: string, events: BerthEvent[], expected: ExpectedVersion, meta: AppendMeta, options: AppendOptions): AppendResult {
    return this.appendTx.immediate(streamId, events, expected, meta, options);
  }

  /** The body of `append`, run inside its BEGIN IMMEDIATE transaction. */
  private appendInTransaction(streamId: string, events: BerthEvent[], expected: ExpectedVersion, meta: AppendMeta, options: AppendOptions): AppendResult {
    if (meta.commandId) {
      const prior = this.reads.commandRows(meta.commandId);
      if (prior.length > 0) {
        const events = prior.map(toStoredEvent);
        return { events, version: events[events.length - 1]!.version, duplicate: true };
      }
    }
    const current = this.reads.streamVersion(streamId);
    checkExpected(streamId, expected, current);
    const head = this.reads.head() ?? { position: 0, hash: GENESIS_HASH };
    let prevHash: Uint8Array = head.hash;
    // Never head+1 blindly: a position once written (or witnessed) is never handed out again.
    let position = Math.max(head.position, this.reads.sequence(), options.above ?? 0);
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

  /**
   * Inserts rows exactly as given, all or nothing: `rows` is consumed inside one BEGIN
   * IMMEDIATE transaction, so a row it rejects (by throwing) rolls back every row before it.
   */
  restore(rows: Iterable<StoredRow>): void {
    const run = this.db.transaction(() => {
      for (const r of rows) this.stmts.insert.run(r.position, r.event_id, r.stream_id, r.version, r.type, r.schema_version, r.time, r.command_id, r.actor_uid, r.body, r.hash);
    });
    run.immediate();
  }

  setCheckpoint(name: string, position: number): void {
    this.stmts.setCheckpoint.run(name, position);
  }

  /** Takes over another journal's node UUID: a restore from the fleet stream, into an empty journal. */
  adoptNodeId(uuid: string): void {
    this.db.prepare("UPDATE node_identity SET uuid = ? WHERE id = 1").run(uuid);
  }

  writeSnapshot(name: string, position: number, chainHash: Buffer, body: Buffer): void {
    this.db.prepare("INSERT INTO snapshots (name, position, body, hash, digest) VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position, body = excluded.body, hash = excluded.hash, digest = excluded.digest")
      .run(name, position, body, chainHash, snapshotDigest(name, position, chainHash, body));
  }
}

function checkExpected(streamId: string, expected: ExpectedVersion, current: number): void {
  const okay = expected === "any" || (expected === "noStream" ? current === 0 : expected === "exists" ? current > 0 : current === expected);
  if (!okay) throw new WrongExpectedVersion(streamId, expected, current);
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
