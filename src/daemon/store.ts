// The daemon's view of the journal: the journal itself, the in-memory projection folded from
// it, and waiters that want to hear when the projection reaches some condition. Every append
// the daemon makes goes through here, so the projection is always exactly the journal's fold,
// and what a caller may ask for again (an intent's outcome, a deleted container's last state)
// is remembered from the appends themselves, not read back.
import Emittery from "emittery";
import type { Command } from "../commands/commands.js";
import { BerthError } from "../model/errors.js";
import { containerIdOf, containerStream, isOutcome, type Actor, type BerthEvent, type ContainerEvent, type StoredEvent } from "../events/catalogue.js";
import type { AppendMeta, ExpectedVersion, Journal } from "../events/journal.js";
import { evolve, type ContainerState } from "../projections/container.js";
import { apply, emptyProjection, foldInto, type Projection } from "../projections/index.js";
import { checkSnapshotStreams } from "./snapshot-check.js";
import { dispatch, expectedVersion, type CommandMeta, type Dispatched } from "./dispatch.js";

export const SNAPSHOT_NAME = "projection";
export const REACTOR_CHECKPOINT = "reactor";
/** How many outcomes the store remembers; an older one is the journal's to tell. */
const REMEMBERED_OUTCOMES = 4096;

/** A container's state just before its first delete since `watchDelete` (see there). */
export interface DeleteWatch {
  readonly before: ContainerState | undefined;
  release(): void;
}

export class Store {
  readonly projection: Projection;
  private readonly changed = new Emittery<{ applied: StoredEvent }>();
  /** Appended events since the last snapshot; snapshots are taken every `snapshotEvery`. */
  private sinceSnapshot = 0;
  /** Why the stored snapshot was not used (the journal was then folded from the start). */
  readonly snapshotDiscarded?: string;
  private replacedDiscarded = false;
  /** The outcomes this store appended, by the event id of the intent each answers (oldest first). */
  private readonly outcomes = new Map<string, StoredEvent>();
  /** Containers someone waits on through a delete: their state just before it, once deleted. */
  private readonly deleteWatches = new Map<string, Set<{ before?: ContainerState }>>();

  constructor(readonly journal: Journal, readonly daemonActor: Actor, private readonly snapshotEvery = 10_000) {
    let discarded: string | undefined;
    let snapshot = journal.loadSnapshot<Projection>(SNAPSHOT_NAME, (reason) => (discarded = reason));
    const problem = snapshot && checkSnapshotStreams(journal, snapshot.state, snapshot.position);
    if (problem) {
      discarded = `snapshot ${JSON.stringify(SNAPSHOT_NAME)} (position ${snapshot!.position}): ${problem}`;
      snapshot = undefined;
    }
    this.snapshotDiscarded = discarded;
    this.projection = foldInto(snapshot?.state ?? emptyProjection(), journal.readAll(snapshot?.position ?? 0));
    this.sinceSnapshot = this.projection.position - (snapshot?.position ?? 0);
  }

  container(id: string): ContainerState | undefined {
    return this.projection.containers[id];
  }

  /** A client's command: decide against the projection, append, fold. */
  command(command: Command, meta: CommandMeta): Dispatched {
    const before = this.projection.containers[command.id];
    const result = dispatch(this.journal, this.projection, command, meta);
    if (!result.duplicate) {
      this.rememberDelete(command.id, before, result.events);
      this.applied(result.events);
    }
    return result;
  }

  /**
   * The outcome of an intent, once the projection no longer holds it pending (waiting up to
   * `timeoutMs`), or undefined when it was settled without one of its own (the sandbox went,
   * or the container was deleted, for another reason). The one place a caller that did not
   * perform the effect itself (a retried command id, an effect already performed) learns it:
   * from what this store appended, else, for an outcome journaled by an earlier daemon process
   * (or one too old to be remembered), from the journal.
   */
  async outcomeOf(intent: StoredEvent, timeoutMs: number, signal?: AbortSignal): Promise<StoredEvent | undefined> {
    const id = containerIdOf(intent.streamId);
    if (id === undefined) return undefined;
    const pending = () => this.projection.containers[id]?.pending.some((p) => p.eventId === intent.eventId) ?? false;
    await this.waitFor(() => (pending() ? undefined : true), timeoutMs, `the outcome of ${intent.type} for ${id}`, signal);
    return this.outcomes.get(intent.eventId) ?? this.journal.outcomeOf(intent);
  }

  /**
   * Keeps `id`'s state just before its next delete until released: a wait on a container that
   * is deleted meanwhile (an --rm one is, right after it stops) still returns the exit it had,
   * though the projection drops a deleted container.
   */
  watchDelete(id: string): DeleteWatch {
    const watch: { before?: ContainerState } = {};
    const watches = this.deleteWatches.get(id) ?? new Set();
    watches.add(watch);
    this.deleteWatches.set(id, watches);
    return {
      get before() {
        return watch.before;
      },
      release: () => {
        watches.delete(watch);
        if (watches.size === 0 && this.deleteWatches.get(id) === watches) this.deleteWatches.delete(id);
      },
    };
  }

  private rememberDelete(id: string, before: ContainerState | undefined, events: StoredEvent[]): void {
    const watches = this.deleteWatches.get(id);
    const at = events.findIndex((e) => e.type === "ContainerDeleted");
    if (!watches || at < 0) return;
    let state = before;
    for (const event of events.slice(0, at)) state = evolve(state, event as StoredEvent<ContainerEvent>);
    // Each watch keeps the first delete since it began.
    for (const watch of watches) watch.before ??= state;
  }

  /**
   * The daemon's own facts (outcomes, recovered exits, restarts). The reactor checkpoint moves
   * in the same transaction: it is the position below which every intent has its outcome.
   */
  record(id: string, events: BerthEvent[], meta: Omit<AppendMeta, "actor"> = {}): StoredEvent[] {
    return this.appendRaw(containerStream(id), events, expectedVersion(this.journal, this.projection, id), meta);
  }

  /** The daemon's own events; `meta.actor` names a client that asked for them (system prune). */
  appendRaw(streamId: string, events: BerthEvent[], expected: ExpectedVersion, meta: AppendMeta = {}): StoredEvent[] {
    const next = this.nextCheckpoint(events);
    const result = this.journal.append(streamId, events, expected, { actor: this.daemonActor, ...meta }, { checkpoint: { name: REACTOR_CHECKPOINT, position: next } });
    for (const event of result.events) apply(this.projection, event);
    for (const event of result.events) if (event.causationId && isOutcome(event.type)) this.rememberOutcome(event.causationId, event);
    this.applied(result.events);
    return result.events;
  }

  /** The first outcome of an intent is its outcome; the oldest is forgotten past the bound. */
  private rememberOutcome(intentId: string, event: StoredEvent): void {
    if (this.outcomes.has(intentId)) return;
    this.outcomes.set(intentId, event);
    if (this.outcomes.size > REMEMBERED_OUTCOMES) this.outcomes.delete(this.outcomes.keys().next().value!);
  }

  private nextCheckpoint(events: BerthEvent[]): number {
    // After this append, the lowest unsettled intent bounds the checkpoint. Computed from the
    // projection before the append; the new events can only settle intents, never add older ones.
    const head = this.journal.head().position + events.length;
    let lowest = head + 1;
    for (const c of Object.values(this.projection.containers)) for (const p of c.pending) if (p.position < lowest) lowest = p.position;
    return Math.min(head, lowest - 1);
  }

  private applied(events: StoredEvent[]): void {
    for (const event of events) void this.changed.emit("applied", event);
    this.sinceSnapshot += events.length;
    if (this.sinceSnapshot >= this.snapshotEvery) this.snapshot();
  }

  /** Saves a snapshot if the projection has moved on by more than `events` since the last one. */
  snapshotIfBehind(events: number): void {
    // A discarded snapshot is replaced at the first chance, however little has changed.
    if (this.sinceSnapshot > events || (this.snapshotDiscarded !== undefined && !this.replacedDiscarded)) this.snapshot();
  }

  snapshot(): void {
    this.journal.saveSnapshot(SNAPSHOT_NAME, this.projection.position, this.projection);
    this.sinceSnapshot = 0;
    this.replacedDiscarded = true;
  }

  onApplied(listener: (event: StoredEvent) => void): () => void {
    return this.changed.on("applied", listener);
  }

  /**
   * Resolves when `check` returns a value (checked now and after every applied event), or
   * rejects with `timeout`. The effect goes on after a timeout; its outcome is still journaled.
   */
  waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string, signal?: AbortSignal): Promise<T> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        off();
        signal?.removeEventListener("abort", onAbort);
        fn();
      };
      const onAbort = () => done(() => reject(new BerthError("cancelled", `gave up waiting for ${what}: the client went away`)));
      const timer = setTimeout(() => done(() => reject(new BerthError("timeout", `timed out after ${timeoutMs} ms waiting for ${what}; the operation goes on and its outcome will be journaled`))), timeoutMs);
      const off = this.onApplied(() => {
        let value: T | undefined;
        try {
          value = check();
        } catch (err) {
          done(() => reject(err));
          return;
        }
        if (value !== undefined) done(() => resolve(value as T));
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
