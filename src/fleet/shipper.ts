// The fleet shipper, as the daemon holds it: copies every committed journal row, in position
// order, to the fleet stream, and never sits in a commit's way. The work (reads, headers,
// publishes, acks: ship-loop.ts) runs in a worker thread of its own (ship-worker.ts) with its
// own read-only connection to the journal, so none of it runs on the thread that appends
// (docs/fleet.md). This side relays the journal's doorbell, writes the `ship` checkpoint the
// worker sends (at most every 100 ms, outside any append), and keeps the state for `current()`.
import { hostname } from "node:os";
import { Worker } from "node:worker_threads";
import type { Journal } from "../events/journal.js";
import type { FleetTarget } from "./nats.js";
import { SharedWords, type ShipWorkerData, type ShipWorkerMessage } from "./ship-thread.js";
import { SHIP_CHECKPOINT, writeShipStatus, type ShipState, type ShipStatus } from "./status.js";

export { SHIP_CHECKPOINT };

/** How long a stop waits for the worker to close its connection before it is terminated. */
const STOP_TIMEOUT_MS = 10_000;

export interface ShipperOptions extends FleetTarget {
  /** Default: the hostname. */
  node?: string;
  /** Where the shipper's state is written for `berth journal stats`. */
  statusPath: string;
  /** Ship the events that carry env values with the values replaced (src/fleet/redact.ts). */
  redactEnv?: boolean;
  /** Hears each newly acknowledged position (bench/ship.ts measures the lag with it). */
  onAcked?: (position: number) => void;
}

export class Shipper {
  readonly node: string;
  readonly nodeId: string;
  private readonly shared = new SharedWords();
  private readonly unsubscribe: () => void;
  private status: ShipStatus;
  private checkpointed: number;
  private worker: Worker | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(private readonly journal: Journal, private readonly options: ShipperOptions) {
    this.node = options.node ?? hostname();
    this.nodeId = journal.nodeId()!;
    this.checkpointed = this.shared.acked = journal.checkpoint(SHIP_CHECKPOINT);
    this.status = { pid: process.pid, servers: options.servers, node: this.node, nodeId: this.nodeId, state: "connecting", acked: this.checkpointed, since: Date.now(), ...(options.redactEnv ? { redactEnv: true } : {}) };
    // The doorbell costs this thread an atomic add and a notify per commit, nothing more.
    this.unsubscribe = journal.subscribe(() => this.shared.ring());
  }

  start(): void {
    writeShipStatus(this.options.statusPath, this.status);
    const { onAcked, ...target } = this.options;
    const data: ShipWorkerData = {
      journalPath: this.journal.path,
      options: { ...target, node: this.node, nodeId: this.nodeId, acked: this.checkpointed, pid: process.pid },
      reportAcks: onAcked !== undefined,
      shared: this.shared.buffer,
    };
    const worker = spawnWorker(data);
    this.worker = worker;
    worker.on("message", (m: ShipWorkerMessage) => this.receive(m));
    let failure: Error | undefined;
    worker.on("error", (err) => (failure = err));
    this.exited = new Promise((resolve) => worker.once("exit", (code) => {
      // A worker that failed to load or crashed, or was terminated, leaves a status that says so.
      if (failure) this.setState("failed", failure);
      else if (this.status.state !== "stopped" && this.status.state !== "failed") {
        this.setState(this.stopping ? "stopped" : "failed", this.stopping ? undefined : new Error(`the shipper's worker thread exited with code ${code}`));
      }
      resolve();
    }));
    // The daemon's own handles keep it alive; a forgotten shipper must not. (After the
    // listeners: adding one refs the worker's port again.)
    worker.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe();
    const worker = this.worker;
    if (worker) {
      worker.ref(); // the stop is awaited: the worker's last checkpoint and state must arrive
      this.shared.stop();
      const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    } else {
      this.setState("stopped");
    }
  }

  private receive(m: ShipWorkerMessage): void {
    switch (m.type) {
      case "acked":
        this.options.onAcked?.(m.position);
        return;
      case "checkpoint":
        this.saveCheckpoint(m.position);
        return;
      case "status":
        this.status = m.status;
        return;
    }
  }

  private saveCheckpoint(position: number): void {
    if (position === this.checkpointed) return;
    try {
      this.journal.setCheckpoint(SHIP_CHECKPOINT, position);
      this.checkpointed = position;
    } catch {
      // A journal that refuses writes refuses commands too; the daemon reports that itself.
    }
  }

  /** Only when the worker is gone: it writes the status itself while it runs. */
  private setState(state: ShipState, error?: Error): void {
    const fault = error && "fault" in error ? String((error as { fault: unknown }).fault) : "internal";
    const code = error && "code" in error ? String((error as { code: unknown }).code) : "internalError";
    this.status = { ...this.status, state, acked: this.shared.acked, since: Date.now(), error: error ? { code, fault, message: error.message } : undefined };
    writeShipStatus(this.options.statusPath, this.status);
  }

  /** What `journal stats` shows, as the shipper sees it now. */
  current(): ShipStatus {
    return { ...this.status, acked: this.shared.acked };
  }
}

/**
 * The worker runs ship-worker beside this file: the .js one in dist, the .ts one under tsx. A
 * worker does not get tsx's loader from `node --import tsx` (Node 20), so under tsx it starts
 * from a two-line bootstrap that registers tsx first.
 */
function spawnWorker(data: ShipWorkerData): Worker {
  const self = import.meta.url;
  if (!self.endsWith(".ts")) return new Worker(new URL("./ship-worker.js", self), { workerData: data });
  const entry = new URL("./ship-worker.ts", self).href;
  const tsx = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}
