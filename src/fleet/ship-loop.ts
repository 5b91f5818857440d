// The fleet shipper's loop: copies every committed journal row, in position order, to the fleet
// stream. It runs in the shipper's worker thread (ship-worker.ts; shipper.ts is the daemon's
// side), on a read-only connection of its own: it reads the journal after commit (woken by the
// journal's doorbell, relayed from the daemon's thread), from the stream's own last position for
// this node, and keeps at most one window of rows in memory. The last acknowledged position goes
// back to the daemon's thread as the `ship` checkpoint at most every 100 ms, so shipping adds no
// transaction per event (docs/fleet.md).
import type { Journal, StoredRow } from "../events/journal.js";
import { FATAL, FleetError, claimNode, ensureStream, lastOfNode, lastSubjectSeq, openFleet, toFleetError, type Fleet, type FleetTarget } from "./nats.js";
import { msgIdOf, rowHeaders } from "./message.js";
import { redactEnvBody, type Redaction } from "./redact.js";
import { writeShipStatus, type ShipState, type ShipStatus } from "./status.js";
import { subjectOf } from "./subject.js";

/** Rows read and published at once: the bound on the shipper's memory. */
const WINDOW = 256;
const CHECKPOINT_EVERY_MS = 100;
/**
 * Windows start at most this often. Under a stream of commits a window then carries many rows
 * instead of one or two, and a window's fixed cost (a socket write, the acks' wake-ups) is
 * shared: at the maximum FULL rate here the worker's CPU an event was ~350 µs with no wait,
 * ~160 µs with 2 ms and ~110 µs with 10 ms, and the append ratio rose with it (docs/fleet.md).
 * It costs about 7 ms of p50 lag under a steady stream; a commit after a quiet spell ships at once.
 */
const GATHER_MS = 10;
const BACKOFF_MS = { first: 100, max: 5000 };
/** Subjects whose last stream sequence is remembered (a miss costs one lookup). */
const REMEMBERED_SUBJECTS = 4096;

export interface ShipLoopOptions extends FleetTarget {
  node: string;
  nodeId: string;
  /** The `ship` checkpoint when the daemon started: what `journal stats` shows until the first ack. */
  acked: number;
  /** Where the shipper's state is written for `berth journal stats`. */
  statusPath: string;
  /** Ship the events that carry env values with the values replaced (src/fleet/redact.ts). */
  redactEnv?: boolean;
  /** The pid the status names: the daemon's. */
  pid: number;
}

/**
 * The journal's doorbell, as the loop waits on it: take a mark before reading, and wait from
 * that mark when the read found nothing, so a commit between the two is not missed.
 */
export interface Doorbell {
  mark(): number;
  /** Resolves once the bell rang after `mark`, or after `ms`; a stop rings it too. */
  rung(mark: number, ms: number): Promise<void>;
}

/** What the loop tells the daemon's thread. */
export interface ShipLoopHooks {
  /** Each newly acknowledged position, once per window. */
  acked(position: number): void;
  /** The position to keep as the `ship` checkpoint, at most every 100 ms and once at the stop. */
  checkpoint(position: number): void;
  /** The state, each time it is written to the status file. */
  status(status: ShipStatus): void;
}

export class ShipLoop {
  readonly node: string;
  readonly nodeId: string;
  private stopped = false;
  private wake: () => void = () => {};
  private fleet: Fleet | undefined;
  private acked: number;
  private flushedAt = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private checkpointed: number;
  private readonly lastSeq = new Map<string, number>();
  private status: ShipStatus;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly journal: Journal, private readonly bell: Doorbell, private readonly options: ShipLoopOptions, private readonly hooks: ShipLoopHooks) {
    this.node = options.node;
    this.nodeId = options.nodeId;
    this.acked = this.checkpointed = options.acked;
    this.status = { pid: options.pid, servers: options.servers, node: this.node, nodeId: this.nodeId, state: "connecting", acked: this.acked, since: Date.now(), ...(options.redactEnv ? { redactEnv: true } : {}) };
  }

  start(): void {
    this.publishStatus();
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.fleet?.nc.close().catch(() => {});
    await this.done;
    this.flush();
    this.setState("stopped");
  }

  /** Connect, resume, ship; on a lost connection back off and do it again; on a fatal fault stop. */
  private async run(): Promise<void> {
    let backoff = BACKOFF_MS.first;
    while (!this.stopped) {
      try {
        await this.session(() => (backoff = BACKOFF_MS.first));
      } catch (err) {
        if (this.stopped) break;
        const e = toFleetError(err, "shipping failed");
        const fatal = e instanceof FleetError && FATAL.has(e.fault);
        this.setState(fatal ? "failed" : "down", e);
        if (fatal) return;
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, BACKOFF_MS.max);
      } finally {
        const fleet = this.fleet;
        this.fleet = undefined;
        await fleet?.nc.close().catch(() => {});
      }
    }
  }

  private async session(connected: () => void): Promise<void> {
    const fleet = await openFleet(this.options, `berth ${this.node}`);
    this.fleet = fleet;
    if (this.stopped) return;
    const replicas = await ensureStream(fleet.jsm);
    await claimNode(fleet, this.node, this.nodeId, replicas);
    this.acked = await this.resumePoint(fleet);
    this.lastSeq.clear();
    connected();
    this.setState("shipping");
    const closed = fleet.nc.closed().then((err) => {
      throw toFleetError(err ?? new Error("connection closed"), "the connection to NATS closed");
    });
    closed.catch(() => {});
    let windowAt = 0;
    while (!this.stopped) {
      const gather = windowAt + GATHER_MS - performance.now();
      if (gather > 0) await new Promise((r) => setTimeout(r, gather));
      const mark = this.bell.mark();
      const rows = this.journal.rowsAfter(this.acked, WINDOW);
      if (rows.length === 0) {
        await Promise.race([this.bell.rung(mark, 1000), closed]);
        continue;
      }
      windowAt = performance.now();
      await Promise.race([this.ship(fleet, rows), closed]);
    }
  }

  /**
   * Where shipping resumes: after the stream's last message for this node, once its chain hash
   * is the local one at that position. Anything else is a fork or a lost local tail, and stops.
   */
  private async resumePoint(fleet: Fleet): Promise<number> {
    const last = await lastOfNode(fleet.jsm, this.node);
    if (!last) return 0;
    if (last.nodeId !== this.nodeId) throw new FleetError("otherNode", `the stream's messages for node ${this.node} belong to journal ${last.nodeId}, and this journal is ${this.nodeId}`);
    const local = this.journal.hashAt(last.row.position);
    if (!local) {
      throw new FleetError("localTailLost", `the stream holds node ${this.node}'s position ${last.row.position}, which this journal does not have (its head is ${this.journal.head().position}): its tail was cut or an older copy was put back; see \`berth journal verify --witness\``);
    }
    if (!local.equals(last.row.hash)) {
      throw new FleetError("forked", `the stream's chain hash for node ${this.node} at position ${last.row.position} is ${last.row.hash.toString("hex")}, the local one ${local.toString("hex")}: the histories forked; see \`berth journal verify --witness\``);
    }
    return last.row.position;
  }

  /**
   * Publishes one window, pipelined. The first message of each subject in the window carries
   * the subject's expected last sequence; the ones after it cannot (their sequence is the
   * previous ack, still in flight), so a foreign write shows at the subject's next window.
   */
  private async ship(fleet: Fleet, rows: StoredRow[]): Promise<void> {
    const batch = rows.map((row) => ({ row, subject: subjectOf(this.node, row.stream_id), first: false }));
    const seen = new Set<string>();
    for (const b of batch) if (!seen.has(b.subject)) seen.add((b.first = true, b.subject));
    await Promise.all([...seen].filter((s) => !this.lastSeq.has(s)).map(async (s) => this.remember(s, await lastSubjectSeq(fleet.jsm, s))));
    // Redacted before anything is published: a row it cannot redact stops the window unshipped.
    const bodies = batch.map(({ row }) => this.bodyOf(row));
    const acks = await Promise.allSettled(batch.map(({ row, subject, first }, i) =>
      fleet.js.publish(subject, bodies[i]!.body, { msgID: msgIdOf(this.node, row.position), headers: rowHeaders(row, this.node, this.nodeId, bodies[i]!.redacted ? bodies[i]!.header : undefined), ...(first ? { expect: { lastSubjectSequence: this.lastSeq.get(subject)! } } : {}) })));
    const failed = acks.findIndex((a) => a.status === "rejected");
    for (let i = 0; i < (failed < 0 ? acks.length : failed); i++) {
      this.remember(batch[i]!.subject, (acks[i] as PromiseFulfilledResult<{ seq: number }>).value.seq);
      this.acked = batch[i]!.row.position;
    }
    this.checkpointSoon();
    this.hooks.acked(this.acked);
    if (failed < 0) return;
    const reason = (acks[failed] as PromiseRejectedResult).reason as Error;
    const { row, subject } = batch[failed]!;
    if (/wrong last sequence/i.test(reason.message)) throw new FleetError("forked", `${subject} holds messages this node did not ship (${reason.message}): another journal ships under node ${this.node}`);
    if (acks.slice(failed + 1).some((a) => a.status === "fulfilled")) {
      throw new FleetError("gap", `the stream refused position ${row.position} but stored later ones, which leaves a gap (${reason.message})`);
    }
    const e = toFleetError(reason, `publishing position ${row.position}`);
    if (e.fault === "protocol") throw new FleetError("refused", `the stream refused position ${row.position}: ${reason.message}`);
    throw e;
  }

  /** What a row ships as: its stored bytes, or with --ship-redact-env its env values replaced. */
  private bodyOf(row: StoredRow): Redaction {
    return this.options.redactEnv ? redactEnvBody(row.type, row.schema_version, row.body) : { redacted: false, body: row.body };
  }

  private remember(subject: string, seq: number): void {
    this.lastSeq.delete(subject);
    this.lastSeq.set(subject, seq);
    if (this.lastSeq.size > REMEMBERED_SUBJECTS) this.lastSeq.delete(this.lastSeq.keys().next().value!);
  }

  private checkpointSoon(): void {
    if (this.flushTimer) return;
    const wait = Math.max(0, this.flushedAt + CHECKPOINT_EVERY_MS - Date.now());
    this.flushTimer = setTimeout(() => this.flush(), wait);
    this.flushTimer.unref();
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushedAt = Date.now();
    if (this.checkpointed !== this.acked) this.hooks.checkpoint((this.checkpointed = this.acked));
    if (this.status.acked !== this.acked) {
      this.status = { ...this.status, acked: this.acked };
      this.publishStatus();
    }
  }

  private setState(state: ShipState, error?: FleetError): void {
    this.status = { ...this.status, state, acked: this.acked, since: Date.now(), error: error ? { code: error.code, fault: error.fault, message: error.message } : undefined };
    this.publishStatus();
  }

  private publishStatus(): void {
    writeShipStatus(this.options.statusPath, this.status);
    this.hooks.status(this.status);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
