// The containers' runtime services (runtime-service.ts), one per container with a sandbox, and
// the exits they report, turned into ProcessExited events exactly once. The dedupe key is
// (container, process, pid, exitedAt): an exit read again from conmon's exit file (after a
// daemon restart) has the same key. The daemon writes its own ack file once the event has
// committed, a witness of the event's position outside the journal (src/events/witness.ts).
import { BerthError } from "../model/errors.js";
import { signalOf, type Exit } from "../model/exit.js";
import { containerStream } from "../events/catalogue.js";
import { processFiles, processIdsIn, readPid, readRecordedExit } from "../vm/conmon.js";
import type { DriverName, SandboxNetwork } from "../vm/driver.js";
import { hasExitAck, writeExitAck } from "../vm/exits.js";
import { containerPaths } from "../vm/paths.js";
import type { ContainerState } from "../projections/container.js";
import type { KeyedQueue } from "./keyed-queue.js";
import { RuntimeService, type KnownProcess, type ServiceStatus } from "./runtime-service.js";
import type { Store } from "./store.js";

export const exitKey = (processId: string, pid: number, exitedAt: number) => `${processId}:${pid}:${exitedAt}`;

export type ExitListener = (id: string, exit: Exit) => Promise<void>;
export type LostListener = (id: string, reason: string) => Promise<void>;

export class Runtimes {
  private readonly services = new Map<string, RuntimeService>();
  /** Per container: exit key → position of its ProcessExited event. */
  private readonly journaledExits = new Map<string, Map<string, number>>();
  /** Told (on the container's queue) after an exit has been journaled; see setListeners. */
  private onExit: ExitListener = async () => {};
  private onLost: LostListener = async () => {};

  constructor(readonly root: string, private readonly store: Store, private readonly queue: KeyedQueue, private readonly driver: DriverName = "runc") {}

  /** The daemon wires the reactor here: it finishes a stop once init's exit is journaled, and a loss. */
  setListeners(onExit: ExitListener, onLost: LostListener): void {
    this.onExit = onExit;
    this.onLost = onLost;
  }

  /** The container's service. notFound when it has none (never booted, or torn down). */
  client(id: string): RuntimeService {
    const service = this.services.get(id);
    if (!service) throw new BerthError("notFound", `container ${id} has no runtime service`);
    return service;
  }

  has(id: string): boolean {
    return this.services.has(id);
  }

  /** Boots a sandbox for the container and follows it. A service left from a boot before is released first. */
  async boot(id: string, dynamicEnv: Record<string, string>, network: SandboxNetwork): Promise<RuntimeService> {
    const state = this.store.container(id)!;
    const old = this.services.get(id);
    if (old) {
      await old.shutdown().catch(() => {}); // a boot performed again after a crash mid-boot
      this.drop(id);
    }
    const service = await RuntimeService.boot({ root: this.root, id, config: state.config, driver: this.driverOf(state), dynamicEnv, network });
    this.follow(id, service);
    return service;
  }

  private driverOf(state: ContainerState): DriverName {
    return (state.runtime?.driver as DriverName | undefined) ?? this.driver;
  }

  /**
   * Follows a sandbox an earlier daemon booted, from what the journal knows of its processes.
   * False when init cannot be followed (its monitor is gone and left no exit).
   */
  async adopt(state: ContainerState): Promise<boolean> {
    const processes: KnownProcess[] = [];
    for (const p of Object.values(state.processes)) {
      if (p.status !== "running" || p.pid === undefined) continue;
      processes.push({ processId: p.id, spec: p.spec, pid: p.pid, startedAt: p.startedAt ?? 0, signalsSent: p.lastSignal ? [p.lastSignal] : [] });
    }
    const status: ServiceStatus = state.status === "paused" ? "paused" : state.status === "booted" ? "booted" : "running";
    const service = await RuntimeService.adopt({ root: this.root, id: state.id, config: state.config, driver: this.driverOf(state), status, processes });
    if (!service) return false;
    this.follow(state.id, service);
    return true;
  }

  private follow(id: string, service: RuntimeService): void {
    this.services.set(id, service);
    service.setListeners({
      exit: (exit) => void this.queue.run(id, () => this.journalExit(id, exit)).catch((err) => console.error(`berth daemon: cannot journal the exit of ${id}/${exit.processId}: ${(err as Error).message}`)),
      lost: (reason) => void this.queue.run(id, () => this.onLost(id, reason)).catch((err) => console.error(`berth daemon: cannot journal the loss of ${id}: ${(err as Error).message}`)),
    });
    // Exits seen before the listeners were set (an adopted process that ended while the daemon was down).
    for (const exit of service.exits()) void this.queue.run(id, () => this.journalExit(id, exit)).catch(() => {});
  }

  /** Journals an exit unless it already is. Returns true if new. */
  async journalExit(id: string, exit: Exit): Promise<boolean> {
    const key = exitKey(exit.processId, exit.pid, exit.exitedAt);
    const seen = this.seen(id);
    const state = this.store.container(id);
    let fresh = false;
    const process = state?.processes[exit.processId];
    // Only the exit of a process this boot started (an old boot's record is history already).
    const belongs = process !== undefined && (process.status === "starting" || (process.status === "running" && process.pid === exit.pid));
    if (!seen.has(key) && belongs) {
      seen.set(key, this.store.record(id, [{ type: "ProcessExited", data: exit }])[0]!.position);
      fresh = true;
    }
    this.witness(id, exit, seen.get(key));
    if (fresh) await this.onExit(id, exit);
    return fresh;
  }

  /**
   * The exits conmon recorded for the container's running processes, whoever was watching: for
   * recovery, when the daemon was down as they ended. The signal comes only from berth's own
   * journaled signals (model/exit.ts, signalOf).
   */
  recordedExits(state: ContainerState): Exit[] {
    const dir = containerPaths(this.root, state.id).dir;
    const exits: Exit[] = [];
    for (const processId of processIdsIn(dir)) {
      const known = state.processes[processId];
      const files = processFiles(dir, state.id, processId);
      const rec = readRecordedExit(files);
      const pid = readPid(files.pidFile) ?? known?.pid;
      if (!rec || pid === undefined) continue;
      const signal = signalOf(rec.exitCode, known?.lastSignal ? [known.lastSignal] : []);
      exits.push({ processId, pid, exitCode: rec.exitCode, ...(signal ? { signal } : {}), oomKilled: rec.oomKilled, exitedAt: rec.exitedAt });
    }
    return exits.sort((a, b) => a.exitedAt - b.exitedAt);
  }

  /**
   * Writes the ack file of a journaled exit (once): the position and chain hash of its event.
   * Also after a crash between the commit and the write, since the position is known here.
   */
  private witness(id: string, exit: Exit, position: number | undefined): void {
    const exitsDir = containerPaths(this.root, id).exits;
    if (position === undefined || !this.store.container(id) || hasExitAck(exitsDir, exit)) return;
    const hash = this.store.journal.hashAt(position);
    if (!hash) return;
    try {
      writeExitAck(exitsDir, { processId: exit.processId, pid: exit.pid, exitedAt: exit.exitedAt, position, hash: hash.toString("hex") });
    } catch (err) {
      // The exit is journaled; only the witness is missing, which costs the loss check one proof.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // the container's directory is gone
      console.error(`berth daemon: cannot write the ack of ${id}/${exit.processId}: ${(err as Error).message}`);
    }
  }

  /**
   * Exit keys already in the journal for this container, with their positions: read once, for
   * the exits an earlier daemon process journaled, then kept up to date from what this one records.
   */
  private seen(id: string): Map<string, number> {
    let keys = this.journaledExits.get(id);
    if (!keys) {
      keys = new Map();
      for (const e of this.store.journal.query({ streamId: containerStream(id), types: ["ProcessExited"] })) {
        if (e.type === "ProcessExited") keys.set(exitKey(e.data.processId, e.data.pid, e.data.exitedAt), e.position);
      }
      this.journaledExits.set(id, keys);
    }
    return keys;
  }

  /** Forgets the service (its sandbox is gone, or the container is). */
  drop(id: string): void {
    const service = this.services.get(id);
    if (!service) return;
    this.services.delete(id);
    service.close();
  }

  closeAll(): void {
    for (const id of [...this.services.keys()]) this.drop(id);
  }
}
