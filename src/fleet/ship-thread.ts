// What the daemon's thread (shipper.ts) and the shipper's worker thread (ship-worker.ts) share:
// the worker's start data, its messages, and the layout of the few words both threads touch.
import type { Doorbell, ShipLoopOptions } from "./ship-loop.js";
import type { ShipStatus } from "./status.js";

export interface ShipWorkerData {
  journalPath: string;
  options: ShipLoopOptions;
  /** Post each window's ack (the daemon's side has an onAcked listener). */
  reportAcks: boolean;
  shared: SharedArrayBuffer;
}

export type ShipWorkerMessage =
  | { type: "acked"; position: number }
  | { type: "checkpoint"; position: number }
  | { type: "status"; status: ShipStatus };

/**
 * The words both threads touch. BELL: bumped by the daemon after each commit (the doorbell).
 * SLEEPING: set by the worker while it waits for the bell; the daemon wakes it (a notify, which
 * costs a few µs) only then, so commits while the worker ships cost an atomic add each. STOP: set
 * by the daemon to stop the worker. ACKED: the last acknowledged position, stored by the worker.
 */
const BELL = 0, SLEEPING = 1, STOP = 2;

export class SharedWords implements Doorbell {
  static readonly BYTES = 24;
  private readonly words: Int32Array;
  private readonly position: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(SharedWords.BYTES)) {
    this.words = new Int32Array(buffer, 0, 4);
    this.position = new BigInt64Array(buffer, 16, 1);
  }

  /** The daemon's side, after each commit. */
  ring(): void {
    Atomics.add(this.words, BELL, 1);
    if (Atomics.load(this.words, SLEEPING) !== 0) Atomics.notify(this.words, BELL);
  }

  mark(): number {
    return Atomics.load(this.words, BELL);
  }

  /**
   * The worker's side. SLEEPING is set before the wait checks BELL against the mark, and the
   * daemon bumps BELL before it reads SLEEPING: either the wait sees the new count and returns at
   * once, or the daemon sees SLEEPING and notifies.
   */
  async rung(mark: number, ms: number): Promise<void> {
    Atomics.store(this.words, SLEEPING, 1);
    try {
      const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(this.words, BELL, mark, ms);
      if (wait.async) await wait.value;
    } finally {
      Atomics.store(this.words, SLEEPING, 0);
    }
  }

  /** The daemon's side: stops the worker, waking it wherever it waits. */
  stop(): void {
    Atomics.store(this.words, STOP, 1);
    Atomics.notify(this.words, STOP);
    Atomics.add(this.words, BELL, 1);
    Atomics.notify(this.words, BELL);
  }

  /** The worker's side: resolves once the daemon asked it to stop. */
  async stopped(): Promise<void> {
    const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(this.words, STOP, 0);
    if (wait.async) await wait.value;
  }

  get acked(): number {
    return Number(Atomics.load(this.position, 0));
  }

  set acked(position: number) {
    Atomics.store(this.position, 0, BigInt(position));
  }
}

/** Atomics.waitAsync is in Node 20 (V8), not in TypeScript's ES2022 library. */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeout?: number): { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
}
