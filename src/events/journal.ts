// The journal: berth's only source of truth. An append-only SQLite table of events with a
// SHA-256 hash chain, written by one process at a time (see lock.ts). `Journal` is the only way
// in: every read and write berth makes is one of its named methods. Its connection stays
// private; the SQL lives in journal-read.ts (the one read engine), journal-write.ts (the
// appends, the import's restore and the snapshot row) and journal-sqlite.ts (open, migrate).
import type Database from "better-sqlite3";
import { BerthError } from "../model/errors.js";
import { isOutcome, type BerthEvent, type EventOf, type EventType, type StoredEvent } from "./catalogue.js";
import { encode } from "./codec.js";
import { GENESIS_HASH } from "./hash.js";
import { JournalIdentity } from "./identity.js";
import { JournalReads, toStoredEvent, type JournalStats, type ReadFilter, type StoredRow } from "./journal-read.js";
import { openDatabase, toJournalError, type OpenOptions } from "./journal-sqlite.js";
import { JournalWrites, type AppendMeta, type AppendOptions, type AppendResult, type ExpectedVersion } from "./journal-write.js";
import { acquireJournalLock, type JournalLock } from "./lock.js";
import { openSnapshot, type SnapshotRow } from "./snapshot.js";
import { verifyChain, type VerifyResult } from "./verify.js";

export type { JournalStats, ReadFilter, StoredRow } from "./journal-read.js";
export type { OpenOptions, SyncMode } from "./journal-sqlite.js";
export { newEventId, WrongExpectedVersion, type AppendMeta, type AppendOptions, type AppendResult, type ExpectedVersion } from "./journal-write.js";

export class Journal {
  /** The doorbell's listeners: called after each commit (see `subscribe`). */
  private readonly bell = new Set<(position: number) => void>();
  private readonly reads: JournalReads;
  private readonly writes: JournalWrites;
  /** The file a writer opened (device, inode): appends stop once the path holds another (identity.ts). */
  readonly identity: JournalIdentity | undefined;

  private constructor(readonly path: string, private readonly db: Database.Database, private readonly lock: JournalLock | undefined) {
    this.reads = new JournalReads(db);
    this.writes = new JournalWrites(db, this.reads);
    this.identity = db.readonly ? undefined : JournalIdentity.capture(path);
  }

  static async open(path: string, options: OpenOptions = {}): Promise<Journal> {
    const lock = options.exclusive === false || options.readonly ? undefined : acquireJournalLock(path);
    try {
      return new Journal(path, await openDatabase(path, options), lock);
    } catch (err) {
      lock?.release();
      throw toJournalError(err, `cannot open journal ${path}`);
    }
  }

  close(): void {
    this.bell.clear();
    this.db.close();
    this.lock?.release();
  }

  /**
   * Appends events to one stream under BEGIN IMMEDIATE, after checking the expected version.
   * A command id that was already journaled returns the original events and appends nothing.
   * Every event berth journals comes through here: a client's command through the dispatcher
   * (src/daemon/dispatch.ts), the daemon's own facts through its store (src/daemon/store.ts).
   */
  append(streamId: string, events: BerthEvent[], expected: ExpectedVersion, meta: AppendMeta = {}, options: AppendOptions = {}): AppendResult {
    this.identity?.assert();
    let result: AppendResult;
    try {
      result = this.writes.append(streamId, events, expected, meta, options);
    } catch (err) {
      throw toJournalError(err, `append to ${streamId} failed; nothing was appended`);
    }
    if (!result.duplicate && result.events.length > 0 && this.bell.size > 0) this.ring(result.events[result.events.length - 1]!.position);
    return result;
  }

  /** Runs `fn`, a series of appends, in one transaction: bulk loads (benchmarks, fixtures). */
  batch<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * A doorbell: listeners learn the new head position and re-read from their own checkpoint.
   * They are called synchronously, after the commit, on every append: keep them to a flag or a
   * wake-up (the fleet shipper's is an atomic add). An emittery emit cost ~10 µs an append
   * here, 2% of a synchronous=FULL commit, and that was the shipper's price on the appends.
   */
  subscribe(listener: (position: number) => void): () => void {
    this.bell.add(listener);
    return () => void this.bell.delete(listener);
  }

  private ring(position: number): void {
    for (const listener of this.bell) {
      try {
        listener(position);
      } catch {
        // A listener's fault is its own: the append committed, and its caller hears that.
      }
    }
  }

  head(): { position: number; hash: string } {
    const head = this.reads.head();
    return head ? { position: head.position, hash: head.hash.toString("hex") } : { position: 0, hash: GENESIS_HASH.toString("hex") };
  }

  streamVersion(streamId: string): number {
    return this.reads.streamVersion(streamId);
  }

  /** The events a command appended, if it was journaled (idempotent retries). */
  eventsForCommand(commandId: string): StoredEvent[] {
    return this.reads.commandRows(commandId).map(toStoredEvent);
  }

  readStream(streamId: string, fromVersion = 1): StoredEvent[] {
    return this.reads.readStream(streamId, fromVersion);
  }

  /**
   * The outcome journaled for an intent: the first later event of its stream, of an outcome
   * type, that names it as its cause. The daemon's store asks only for an intent whose outcome
   * it did not append itself (one journaled by an earlier daemon process).
   */
  outcomeOf(intent: StoredEvent): StoredEvent | undefined {
    return this.reads.readStream(intent.streamId, intent.version + 1).find((e) => e.causationId === intent.eventId && isOutcome(e.type));
  }

  /** The event at a global position, or undefined when there is none. */
  eventAt(position: number): StoredEvent | undefined {
    return this.reads.query({ after: position - 1, limit: 1 }).find((e) => e.position === position);
  }

  /** The last event of one type in a stream, or undefined. */
  lastOfType<T extends EventType>(streamId: string, type: T): StoredEvent<EventOf<T>> | undefined {
    return this.reads.query({ streamId, types: [type] }).pop() as StoredEvent<EventOf<T>> | undefined;
  }

  /** Events after a global position, in position order, a page at a time. */
  readAll(after = 0, pageSize = 10_000): Generator<StoredEvent> {
    return this.reads.readAll(after, pageSize);
  }

  /** Filtered reads (audit queries: `berth events`, `history`, the daemon's `events` route). */
  query(filter: ReadFilter = {}): StoredEvent[] {
    return this.reads.query(filter);
  }

  /** The position of the last event at or before a time (ms), 0 when there is none. */
  lastPositionAt(time: number): number {
    return this.reads.lastPositionAt(time);
  }

  /** Counts and time span of the events, for `berth journal stats`. */
  stats(): JournalStats {
    return this.reads.stats();
  }

  /** Every row as stored (body and hash included), in position order: what an export writes. */
  storedRows(): IterableIterator<StoredRow> {
    return this.reads.rows();
  }

  /** Inserts an export's rows verbatim, all or nothing (archive.ts checks them as they pass). */
  restore(rows: Iterable<StoredRow>): void {
    this.writes.restore(rows);
  }

  /** Recomputes the hash chain; names the first bad position. */
  verify(): VerifyResult {
    return verifyChain(this.reads.rows(), () => this.reads.sequence());
  }

  checkpoint(name: string): number {
    return this.reads.checkpoint(name);
  }

  /**
   * Moves a consumer's checkpoint outside any append: the fleet shipper's last acknowledged
   * position, written in batches (docs/fleet.md) so shipping adds no transaction per event.
   */
  setCheckpoint(name: string, position: number): void {
    this.identity?.assert();
    this.writes.setCheckpoint(name, position);
  }

  /** Up to `limit` stored rows after a position, every column: the fleet shipper's reads. */
  rowsAfter(after: number, limit: number): StoredRow[] {
    return this.reads.rowsAfter(after, limit);
  }

  /** The node UUID made with this journal (migrations/004); undefined only read-only on an older file. */
  nodeId(): string | undefined {
    return this.reads.nodeId();
  }

  /** A restore from the fleet stream takes the shipped node's UUID; only into an empty journal. */
  adoptNodeId(uuid: string): void {
    if (this.head().position !== 0) throw new BerthError("invalidState", `cannot take node id ${uuid}: the journal ${this.path} is not empty`);
    this.writes.adoptNodeId(uuid);
  }

  /** The chain hash at a position (the genesis hash at 0), or undefined when there is no such row. */
  hashAt(position: number): Buffer | undefined {
    return position === 0 ? GENESIS_HASH : this.reads.hashAt(position);
  }

  /** The highest position ever written to this file (SQLite's AUTOINCREMENT sequence). */
  sequence(): number {
    return this.reads.sequence();
  }

  /** Copies the WAL's commits into the file and empties the WAL, so the file is complete on its own. */
  checkpointWal(): void {
    this.db.pragma("wal_checkpoint(TRUNCATE)");
  }

  /** Saves `state` as of `position` with the chain hash there and a digest (snapshot.ts). */
  saveSnapshot(name: string, position: number, state: unknown): void {
    const hash = this.hashAt(position);
    if (!hash) throw new BerthError("invalidArgument", `cannot snapshot at position ${position}: the journal has no event there`);
    this.writes.writeSnapshot(name, position, hash, encode(state));
  }

  /** A snapshot that passes snapshot.ts's load checks, or undefined; `onReject` hears why one did not. */
  loadSnapshot<T>(name: string, onReject?: (reason: string) => void): { position: number; hash: string; state: T } | undefined {
    const row = this.reads.snapshotRows(name)[0];
    const opened = row && openSnapshot<T>(row, this.hashAt(row.position), this.head().position);
    if (opened && !opened.ok) onReject?.(opened.reason);
    return opened?.ok ? opened : undefined;
  }

  /** Stored snapshot rows (all, or the one named), unchecked: for verify. */
  snapshotRows(name?: string): SnapshotRow[] {
    return this.reads.snapshotRows(name);
  }
}
