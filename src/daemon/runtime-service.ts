// The runtime service of one container, inside the daemon: it owns the sandbox through one
// driver (runc under conmon, or the in-memory fake), starts and signals its processes, and hears
// of their exits from the driver. It journals nothing: it returns outcomes and reports exits
// (and a monitor that died) to its listeners; only the reactor and Runtimes append.
// A single state machine guards the transitions; the verbs that change it run one at a time.
import type { ContainerConfig, ProcessSpec } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import type { Exit } from "../model/exit.js";
import { LIFECYCLE, type LifecycleStatus } from "../model/lifecycle.js";
import type { RuntimeEndpoint } from "../events/catalogue.js";
import type { AttachPoint } from "../vm/conmon.js";
import type { Driver, DriverName, SandboxNetwork, SandboxProcess, Statistics } from "../vm/driver.js";
import { createDriver } from "../vm/drivers.js";

export type ServiceStatus = "booted" | "running" | "paused" | "stopping" | "stopped";

interface Proc {
  processId: string;
  spec: ProcessSpec;
  status: "created" | "running" | "exited";
  pid?: number;
  /** ms since the epoch, as the driver saw the process start. */
  startedAt?: number;
  exit?: Exit;
  /** Resolves with the exit once the driver has seen it; rejects when its monitor was lost. */
  exited: Promise<Exit>;
  resolveExited: (r: Exit) => void;
  rejectExited: (err: Error) => void;
}

/** A process as the service reports it: times in ms since the epoch, as the driver saw them. */
export type ProcessView = { status: Proc["status"]; pid?: number; startedAt?: number } & Partial<Omit<Exit, "processId" | "pid">>;

/** The reply to startProcess: who the process is and when it started. */
export type Started = Pick<SandboxProcess, "pid" | "startedAt">;

export interface ServiceState {
  id: string;
  status: ServiceStatus;
  driver: Driver["name"];
  isolation: Driver["isolation"];
  processes: Record<string, ProcessView>;
}

/** What an earlier daemon journaled of a process that may still run: enough to follow it again. */
export interface KnownProcess {
  processId: string;
  spec: ProcessSpec;
  pid: number;
  startedAt: number;
  signalsSent: string[];
}

export interface ServiceListeners {
  exit(exit: Exit): void;
  /** Init's monitor died without recording its exit; the sandbox has been torn down. */
  lost(reason: string): void;
}

/** A process a client attaches to: it has a terminal or an open stdin. */
const interactive = (spec: ProcessSpec) => spec.terminal || spec.stdin !== undefined;

function refuseUnless(allowed: readonly LifecycleStatus[], verb: string, id: string, status: ServiceStatus): void {
  if (!allowed.includes(status)) throw new BerthError("invalidState", `cannot ${verb}: container ${id} is ${status}, expected ${allowed.join(" or ")}`);
}

export class RuntimeService {
  status: ServiceStatus = "booted";
  private readonly procs = new Map<string, Proc>();
  private lock: Promise<unknown> = Promise.resolve();
  private listeners: ServiceListeners = { exit: () => {}, lost: () => {} };
  private resolveInitDone!: () => void;
  private readonly initDone = new Promise<void>((r) => (this.resolveInitDone = r));

  private constructor(
    readonly id: string,
    readonly config: ContainerConfig,
    readonly driver: Driver,
    /** Dynamic env computed at bootstrap: the user's config wins over it. */
    private readonly dynamicEnv: Record<string, string>,
  ) {}

  /** Boots the sandbox: bundle, rootfs, and init created, ready to start. */
  static async boot(o: { root: string; id: string; config: ContainerConfig; driver: DriverName; dynamicEnv: Record<string, string>; network: SandboxNetwork }): Promise<RuntimeService> {
    const driver = await createDriver(o.driver, { root: o.root, id: o.id, config: o.config });
    const service = new RuntimeService(o.id, o.config, driver, o.dynamicEnv);
    await driver.prepare(service.initSpec(), o.network);
    return service;
  }

  /**
   * Follows a sandbox an earlier daemon booted: its processes as the journal knows them, each
   * found again through its monitor's files. Undefined when init can no longer be followed.
   */
  static async adopt(o: { root: string; id: string; config: ContainerConfig; driver: DriverName; status: ServiceStatus; processes: KnownProcess[] }): Promise<RuntimeService | undefined> {
    const driver = await createDriver(o.driver, { root: o.root, id: o.id, config: o.config });
    const service = new RuntimeService(o.id, o.config, driver, {});
    if (o.status === "booted") {
      const boot = driver.adoptBoot();
      if (!boot) return undefined;
      if (boot !== "created") {
        service.track(service.newProc(o.id, service.initSpec()), boot);
        service.status = "running";
      }
      return service;
    }
    if (!o.processes.some((p) => p.processId === o.id)) return undefined;
    for (const known of o.processes) {
      const started = driver.adopt(known.processId, known.pid, known.startedAt, known.signalsSent);
      if (!started && known.processId === o.id) return undefined;
      if (started) service.track(service.newProc(known.processId, known.spec), started);
    }
    // Reality, not the journal, says whether it is frozen: the daemon may have died between
    // runc's pause (or resume) and the journaling of its outcome.
    const probe = await driver.probe();
    service.status = probe.frozen === undefined ? o.status : probe.frozen ? "paused" : "running";
    return service;
  }

  setListeners(listeners: ServiceListeners): void {
    this.listeners = listeners;
  }

  /** Who keeps the sandbox, as ContainerBooted records it. */
  endpoint(): RuntimeEndpoint {
    const m = this.driver.monitor();
    if (!m) throw new BerthError("internalError", `the sandbox of ${this.id} has no monitor`);
    return { pid: m.pid, startTime: m.startTime, driver: this.driver.name, monitor: this.driver.name === "fake" ? "daemon" : "conmon" };
  }

  private initSpec(): ProcessSpec {
    return { ...this.config.init, env: { ...this.dynamicEnv, ...this.config.init.env } };
  }

  /** Runs verbs that change state one at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => {}); // the caller gets the failure from `next`; the lock only orders the next call
    return next;
  }

  private newProc(processId: string, spec: ProcessSpec): Proc {
    let resolveExited!: (r: Exit) => void;
    let rejectExited!: (err: Error) => void;
    const exited = new Promise<Exit>((resolve, reject) => ((resolveExited = resolve), (rejectExited = reject)));
    exited.catch(() => {}); // a loss is reported through the listeners; a waiter gets it from its own await
    const p: Proc = { processId, spec, status: "created", exited, resolveExited, rejectExited };
    this.procs.set(processId, p);
    return p;
  }

  private proc(processId: string): Proc {
    const p = this.procs.get(processId);
    if (!p) throw new BerthError("notFound", `process ${processId} not found in container ${this.id}: expected ${[...this.procs.keys()].join(", ") || "a created process"}`);
    return p;
  }

  state(): ServiceState {
    const processes: Record<string, ProcessView> = {};
    for (const p of this.procs.values()) {
      const v: ProcessView = { status: p.status };
      if (p.pid !== undefined) v.pid = p.pid;
      if (p.startedAt !== undefined) v.startedAt = p.startedAt;
      if (p.exit) {
        const { processId: _, pid: __, ...how } = p.exit;
        Object.assign(v, how);
      }
      processes[p.processId] = v;
    }
    return { id: this.id, status: this.status, driver: this.driver.name, isolation: this.driver.isolation, processes };
  }

  createProcess(processId: string, spec: ProcessSpec): Promise<ProcessView> {
    return this.serial(async () => {
      refuseUnless(LIFECYCLE.commands.createProcess, "create a process", this.id, this.status);
      if (processId === this.id || this.procs.has(processId)) throw new BerthError("exists", `process ${processId} already exists in container ${this.id}`);
      // Like `docker exec`: the process inherits the container's environment, its own env wins.
      const full = { ...spec, env: { ...this.dynamicEnv, ...this.config.init.env, ...spec.env } };
      if (interactive(full) || this.config.log?.driver === "none") {
        if (!this.driver.prepareExec) throw new BerthError("unsupported", `the ${this.driver.name} driver cannot give a process a terminal, stdin or output without a log: use the runc driver`);
        await this.driver.prepareExec(processId, full);
      }
      this.newProc(processId, full);
      return { status: "created" };
    });
  }

  startProcess(processId: string): Promise<Started> {
    return this.serial(async () => {
      if (processId === this.id) return this.startInit();
      const p = this.proc(processId);
      refuseUnless(LIFECYCLE.start.exec, `start process ${p.processId}`, this.id, this.status);
      if (p.status !== "created") throw new BerthError("invalidState", `cannot start process ${p.processId}: it is ${p.status}, expected created`);
      return this.track(p, await this.driver.exec(p.processId, p.spec));
    });
  }

  private async startInit(): Promise<Started> {
    refuseUnless(LIFECYCLE.start.init, "start init", this.id, this.status);
    const p = this.newProc(this.id, this.initSpec());
    try {
      const started = await this.driver.startInit();
      this.status = "running";
      return this.track(p, started);
    } catch (err) {
      this.procs.delete(this.id);
      throw err;
    }
  }

  private track(p: Proc, started: SandboxProcess): Started {
    p.status = "running";
    p.pid = started.pid;
    p.startedAt = started.startedAt;
    void started.exited.then((exit) => this.onExit(p, exit));
    void started.lost.then((reason) => this.onLost(p, reason));
    return { pid: started.pid, startedAt: started.startedAt };
  }

  private onExit(p: Proc, exit: Exit): void {
    if (p.status === "exited") return;
    p.status = "exited";
    p.exit = exit;
    p.resolveExited(exit);
    if (p.processId === this.id) this.resolveInitDone();
    this.listeners.exit(exit);
    // init ended by itself: the sandbox is finished; release it without waiting for a stop.
    if (p.processId === this.id && this.status === "running") void this.serial(() => this.finishSandbox());
  }

  /** A monitor died unseen: an exec is simply gone; for init the sandbox is torn down and reported lost. */
  private onLost(p: Proc, reason: string): void {
    if (p.status === "exited") return;
    p.rejectExited(new BerthError("notFound", reason));
    if (p.processId !== this.id) {
      p.status = "exited";
      return;
    }
    void this.serial(async () => {
      await this.thaw();
      await this.finishSandbox();
      p.status = "exited";
      this.resolveInitDone();
      this.listeners.lost(reason);
    });
  }

  /** Ends every process of the sandbox and removes it (runc delete kills what still runs). */
  private async finishSandbox(): Promise<void> {
    if (this.status === "stopped") return;
    this.status = "stopping";
    await this.driver.teardown();
    this.status = "stopped";
  }

  /** For SIGKILL, resolves once the exit has been seen. */
  async kill(processId: string, signal = "SIGKILL"): Promise<ProcessView> {
    const p = this.proc(processId);
    if (p.status !== "running") throw new BerthError("invalidState", `cannot signal process ${p.processId}: it is ${p.status}, expected running`);
    await this.driver.signal(p.processId, signal);
    if (signal === "SIGKILL") await p.exited;
    return this.state().processes[p.processId]!;
  }

  /** Ends init (signal, then SIGKILL after the grace) and tears the sandbox down. */
  stop(opts: { signal?: string; timeoutInSeconds?: number } = {}): Promise<ServiceState> {
    const signal = opts.signal ?? this.config.stopSignal;
    const timeout = opts.timeoutInSeconds ?? this.config.stopTimeoutSeconds;
    return this.serial(async () => {
      await this.thaw();
      if (this.status === "stopped") return this.state();
      const init = this.procs.get(this.id);
      if (init?.status === "running") {
        await this.driver.signal(this.id, signal).catch(() => {}); // already exited: the race below sees its exit
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([init.exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeout * 1000)))]);
        clearTimeout(timer);
        if (timedOut) await this.driver.signal(this.id, "SIGKILL").catch(() => {}); // exited meanwhile: the teardown below settles it
      }
      await this.finishSandbox();
      return this.state();
    });
  }

  pause(): Promise<ServiceState> {
    return this.setFrozen(true);
  }

  resume(): Promise<ServiceState> {
    return this.setFrozen(false);
  }

  private setFrozen(frozen: boolean): Promise<ServiceState> {
    return this.serial(async () => {
      refuseUnless(LIFECYCLE.commands[frozen ? "pause" : "unpause"], frozen ? "pause" : "unpause", this.id, this.status);
      await (frozen ? this.driver.pause() : this.driver.resume());
      this.status = frozen ? "paused" : "running";
      return this.state();
    });
  }

  /** Signals cannot reach frozen processes: thaw before stopping, killing or tearing down. */
  private async thaw(): Promise<void> {
    if (this.status !== "paused") return;
    await this.driver.resume().catch(() => {}); // a thaw that fails leaves nothing to resume: the teardown's SIGKILL follows
    this.status = "running";
  }

  statistics(): Promise<Statistics> {
    return this.driver.statistics();
  }

  /** Where a client attaches to one process's stdio (conmon's attach socket). */
  attachPoint(processId: string): AttachPoint {
    const p = processId === this.id ? { spec: this.config.init, status: this.procs.get(this.id)?.status ?? "created" } : this.proc(processId);
    if (!interactive(p.spec) && this.config.log?.driver !== "none") throw new BerthError("invalidArgument", `cannot attach to ${processId}: it has neither a terminal nor stdin (create it with -i or -t); its output is in its logs`);
    if (p.status === "exited") throw new BerthError("invalidState", `cannot attach to ${processId}: it has exited`);
    if (!this.driver.attachPoint) throw new BerthError("unsupported", `the ${this.driver.name} driver cannot attach to a process: use the runc driver`);
    return this.driver.attachPoint(processId);
  }

  wait(processId: string): Promise<Exit> {
    return this.proc(processId).exited;
  }

  /** The exits seen so far, oldest first. */
  exits(): Exit[] {
    return [...this.procs.values()].flatMap((p) => (p.exit ? [p.exit] : [])).sort((a, b) => a.exitedAt - b.exitedAt);
  }

  /** Settles once init has ended (or was lost): a follow of its output can end. */
  initEnded(): Promise<void> {
    return this.initDone;
  }

  /** Releases everything, whatever the state: kills what runs and tears down. */
  shutdown(): Promise<ServiceState> {
    return this.serial(async () => {
      await this.thaw();
      if (this.status !== "stopped") await this.finishSandbox();
      else await this.driver.teardown(); // idempotent: releases what a boot that never started left
      return this.state();
    });
  }

  /** The daemon is closing: stop following; the sandbox goes on under its monitor. */
  close(): void {
    this.driver.close();
  }
}
