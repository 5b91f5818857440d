// berth daemon: owns <root>/journal.db exclusively and serves <root>/run/berth.sock. Start-up is
// check the root → open journal → load snapshot and fold the tail → recover → serve.
import { chmodSync, closeSync, existsSync, openSync, statSync } from "node:fs";
import { Journal, type SyncMode } from "../events/journal.js";
import { describeLoss } from "../events/witness.js";
import { listen, type IpcServer } from "../ipc/server.js";
import { checkSocketPathLength, claimSocketPath, prepareDirectory, preparePrivateRoot } from "../ipc/socket-file.js";
import { journalPath, socketPath } from "../host/root-layout.js";
import { validateLog, type LogConfig } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import type { DriverName } from "../vm/driver.js";
import { Shipper, type ShipperOptions } from "../fleet/shipper.js";
import { shipStatusPath } from "../fleet/status.js";
import { KeyedQueue } from "./keyed-queue.js";
import { Reactor } from "./reactor.js";
import { checkJournalLoss } from "./journal-loss.js";
import { recover, type RecoveryCounts } from "./recovery.js";
import { daemonRoutes } from "./routes.js";
import { imageRoutes, readRegistriesConf } from "./image-routes.js";
import { NetworkEffects } from "./network-effects.js";
import { networkRoutes } from "./network-routes.js";
import { Networking } from "../vm/network/networking.js";
import { DEFAULT_NETWORK } from "../model/network.js";
import { Runtimes } from "./runtimes.js";
import { Store } from "./store.js";
import { scanOrphans } from "./orphans.js";
import { resolveNames } from "./names.js";
import { guardRoutes, onJournalFault, systemRoutes } from "./system-routes.js";

export interface DaemonOptions {
  root: string;
  driver?: DriverName;
  sync?: SyncMode;
  /** Extra groups allowed to connect besides root. */
  allowGids?: number[];
  /** Start although witnesses prove the journal lost acknowledged events, and journal the loss. */
  acceptJournalLoss?: boolean;
  /** The log config of containers created without one (`berth daemon --log-opt`): validated at start. */
  log?: unknown;
  /** The network of containers created without one (`berth daemon --default-network`, podman's default_network): "bridge". */
  defaultNetwork?: string;
  /** A registries.conf (v2) naming mirrors (`berth daemon --registries-conf`): read at start. */
  registriesConf?: string;
  /** Ship every committed event to a NATS JetStream fleet stream (docs/fleet.md). */
  ship?: Omit<ShipperOptions, "statusPath">;
}

export class Daemon {
  private constructor(
    readonly root: string,
    readonly store: Store,
    private readonly runtimes: Runtimes,
    private readonly reactor: Reactor,
    private readonly queue: KeyedQueue,
    private readonly server: IpcServer,
    readonly recovered: RecoveryCounts,
    /** How long loading the projection and recovering took, for the start-up line. */
    readonly timings: { loadMs: number; recoverMs: number },
    /** What start-up found wrong and got past: a discarded snapshot, an accepted journal loss. */
    readonly warnings: string[] = [],
    private readonly shipper?: Shipper,
  ) {}

  static async start(options: DaemonOptions): Promise<Daemon> {
    const driver = options.driver ?? "runc";
    const logDefault = options.log === undefined ? undefined : defaultLog(options.log);
    const registries = options.registriesConf === undefined ? undefined : readRegistriesConf(options.registriesConf);
    prepareRoot(options.root);
    const journal = await Journal.open(journalPath(options.root), { sync: options.sync ?? "full" });
    try {
      // After the journal's lock (a second daemon is told that one owns it), before any append.
      await claimSocketPath(socketPath(options.root));
      const started = performance.now();
      const actor = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, pid: process.pid };
      const loss = checkJournalLoss(journal, options.root, options.acceptJournalLoss === true, actor);
      const store = new Store(journal, actor);
      const loaded = performance.now();
      const queue = new KeyedQueue();
      const runtimes = new Runtimes(options.root, store, queue, driver);
      const networks = new NetworkEffects(store, options.root, driver === "runc" ? new Networking(options.root) : undefined);
      const reactor = new Reactor(store, runtimes, queue, { root: options.root, driver }, networks);
      // Before recovery, which journals the exits recorded while the daemon was away.
      runtimes.setListeners((id, exit) => reactor.afterExit(id, exit), (id, reason) => reactor.afterLoss(id, reason));
      const recovered = await recover(store, runtimes, reactor, { root: options.root, driver });
      const reconciled = await networks.reconcile();
      await scanOrphans(store, options.root); // after recovery: what is left is what the journal does not know
      onJournalFault(journal);
      const timings = { loadMs: Math.round(loaded - started), recoverMs: Math.round(performance.now() - loaded) };
      store.snapshotIfBehind(1000); // so the next start replays little
      const server = await listen({
        socketPath: socketPath(options.root),
        routes: guardRoutes(resolveNames({ ...daemonRoutes({ root: options.root, store, queue, reactor, runtimes, networks, defaultNetwork: options.defaultNetwork ?? DEFAULT_NETWORK, ...(logDefault ? { logDefault } : {}), ipcStats: () => ({ connections: server.connections(), inFlight: server.inFlight(), queuedBytes: server.queuedBytes() }) }), ...systemRoutes({ root: options.root, store, queue, reactor, driver }), ...imageRoutes({ root: options.root, store, ...(registries ? { registries } : {}) }), ...networkRoutes({ store, networks, queue }) }, () => store.projection), journal),
        allowUids: [0],
        allowGids: options.allowGids ?? [],
      });
      const warnings = [...(store.snapshotDiscarded ? [`${store.snapshotDiscarded}; discarded, the journal was replayed in full`] : []), ...(loss ? [`accepted a journal loss: ${describeLoss(loss)}`] : []), ...reconciled.problems];
      // Last, and never awaited: the shipper reads what is committed, and commits never wait for it.
      const shipper = options.ship ? new Shipper(journal, { ...options.ship, statusPath: shipStatusPath(options.root) }) : undefined;
      shipper?.start();
      return new Daemon(options.root, store, runtimes, reactor, queue, server, recovered, timings, warnings, shipper);
    } catch (err) {
      journal.close();
      throw err;
    }
  }

  /** A clean stop: containers keep running (conmon keeps them). */
  async close(): Promise<void> {
    await this.server.close();
    this.reactor.close();
    await this.queue.idle();
    this.runtimes.closeAll();
    await this.shipper?.stop();
    this.store.snapshot();
    this.store.journal.close();
  }
}

/**
 * Everything that can refuse a start is checked before anything is journaled, so a refused start
 * appends nothing (no DaemonRecovered): here, before the journal is opened, the root, the
 * socket's private directory and the socket path's length; a live server on the socket is
 * probed once the journal's lock is held.
 */
/** The daemon's default log config, checked as a container's would be: a bad one stops the start. */
function defaultLog(input: unknown): LogConfig {
  const log = validateLog(input);
  if (!log.ok) throw new BerthError("invalidArgument", `the daemon's default log options: ${log.error.message}`);
  return log.value;
}

function prepareRoot(root: string): void {
  preparePrivateRoot(root);
  prepareDirectory(socketPath(root), 0o700);
  checkSocketPathLength(socketPath(root));
  privateJournal(journalPath(root));
}

/**
 * The journal holds every container's config and env, and the root may be 0755: the file is
 * made 0600 before SQLite opens it (an empty file is a new database), and SQLite gives its -wal
 * and -shm files the mode of the database file.
 */
function privateJournal(path: string): void {
  closeSync(openSync(path, "a", 0o600));
  // A journal from before this rule, and the -wal and -shm a crash left beside it.
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  }
}
