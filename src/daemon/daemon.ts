// berth daemon: owns <root>/journal.db exclusively and serves <root>/berth.sock. Start-up is
// open journal → load snapshot and fold the tail → recover → serve.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Journal, type SyncMode } from "../events/journal.js";
import { listen, type IpcServer } from "../ipc/server.js";
import type { DriverName } from "../vm/driver.js";
import { ServicePool } from "../vm/service-pool.js";
import { KeyedQueue } from "./keyed-queue.js";
import { Reactor } from "./reactor.js";
import { recover, type RecoveryCounts } from "./recovery.js";
import { daemonRoutes } from "./routes.js";
import { Runtimes } from "./runtimes.js";
import { Store } from "./store.js";

export interface DaemonOptions {
  root: string;
  driver?: DriverName;
  sync?: SyncMode;
  /** Extra groups allowed to connect besides root. */
  allowGids?: number[];
  /** Runtime services kept started and idle, so a bootstrap skips Node's start-up (default 1; 0 disables). */
  warmServices?: number;
}

export const journalPath = (root: string) => join(root, "journal.db");
export const socketPath = (root: string) => join(root, "berth.sock");

export class Daemon {
  private constructor(
    readonly root: string,
    readonly store: Store,
    private readonly runtimes: Runtimes,
    private readonly reactor: Reactor,
    private readonly queue: KeyedQueue,
    private readonly server: IpcServer,
    private readonly pool: ServicePool,
    readonly recovered: RecoveryCounts,
    /** How long loading the projection and recovering took, for the start-up line. */
    readonly timings: { loadMs: number; recoverMs: number },
  ) {}

  static async start(options: DaemonOptions): Promise<Daemon> {
    const driver = options.driver ?? "runc";
    mkdirSync(options.root, { recursive: true, mode: 0o700 });
    const journal = await Journal.open(journalPath(options.root), { sync: options.sync ?? "full" });
    try {
      const started = performance.now();
      const store = new Store(journal, { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, pid: process.pid });
      const loaded = performance.now();
      const queue = new KeyedQueue();
      const runtimes = new Runtimes(options.root, store, queue);
      const pool = new ServicePool(options.root, options.warmServices ?? 1);
      const reactor = new Reactor(store, runtimes, queue, { root: options.root, driver, pool });
      const recovered = await recover(store, runtimes, reactor, { root: options.root, driver });
      const timings = { loadMs: Math.round(loaded - started), recoverMs: Math.round(performance.now() - loaded) };
      store.snapshotIfBehind(1000); // so the next start replays little
      const server = await listen({
        socketPath: socketPath(options.root),
        routes: daemonRoutes({ root: options.root, store, queue, reactor, runtimes, ipcStats: () => ({ connections: server.connections(), inFlight: server.inFlight(), queuedBytes: server.queuedBytes() }) }),
        allowUids: [0],
        allowGids: options.allowGids ?? [],
      });
      pool.fill(); // after start-up, so the warm services never slow it down
      return new Daemon(options.root, store, runtimes, reactor, queue, server, pool, recovered, timings);
    } catch (err) {
      journal.close();
      throw err;
    }
  }

  /** A clean stop: containers keep running (their runtime services own them). */
  async close(): Promise<void> {
    await this.server.close();
    this.pool.close();
    this.reactor.close();
    await this.queue.idle();
    this.runtimes.closeAll();
    this.store.snapshot();
    this.store.journal.close();
  }
}

/** /var/lib/berth for root, $XDG_STATE_HOME/berth otherwise; BERTH_ROOT overrides both. */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_ROOT) return env.BERTH_ROOT;
  if (process.getuid?.() === 0) return "/var/lib/berth";
  return join(env.XDG_STATE_HOME ?? join(env.HOME ?? "/tmp", ".local", "state"), "berth");
}
