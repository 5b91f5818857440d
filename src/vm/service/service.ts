// The runtime service: owns one sandbox through one driver, is the parent of its init and exec
// processes, records every exit before reporting it, and serves the container's routes.
// A single state machine guards the transitions; the verbs that change it run one at a time.
// This service checks ids, signals and specs itself, although the daemon parsed them already
// (src/commands/parse.ts): its socket is an edge of its own, which any root process may call.
import { normaliseSignal, validateId, validateProcessSpec, type ContainerConfig, type ProcessSpec } from "../../model/config.js";
import { BerthError } from "../../model/errors.js";
import type { Route } from "../../ipc/server.js";
import { LIFECYCLE, type LifecycleStatus } from "../../model/lifecycle.js";
import type { Exit } from "../../model/exit.js";
import type { Driver, SandboxProcess } from "../driver.js";
import { ackExitRecord, readExitRecordsIn, writeExitRecord } from "../exits.js";
import { LogWriter, followLogs, logEntries, type LogEntry, type LogQuery } from "../logs.js";
import type { ContainerPaths } from "../paths.js";

export type ServiceStatus = "booted" | "running" | "paused" | "stopping" | "stopped";

interface Proc {
  processId: string;
  spec: ProcessSpec;
  status: "created" | "running" | "exited";
  pid?: number;
  /** ms since the epoch, as the driver saw the process start. */
  startedAt?: number;
  exit?: Exit;
  /** Resolves with the exit once its record is on disk. */
  recorded: Promise<Exit>;
  resolveRecorded: (r: Exit) => void;
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
  servicePid: number;
  processes: Record<string, ProcessView>;
}

/**
 * Which verbs each state rejects, with one message per refusal (as containerd's shim does).
 * The statuses come from the lifecycle table, as the daemon's decider reads them.
 */
function refuseUnless(allowed: readonly LifecycleStatus[], verb: string, id: string, status: ServiceStatus): void {
  if (!allowed.includes(status)) throw new BerthError("invalidState", `cannot ${verb}: container ${id} is ${status}, expected ${allowed.join(" or ")}`);
}

export class RuntimeService {
  status: ServiceStatus = "booted";
  private readonly procs = new Map<string, Proc>();
  private readonly logs: LogWriter;
  private readonly exitListeners = new Set<(r: Exit) => void>();
  private lock: Promise<unknown> = Promise.resolve();
  private initAcked = false;
  private resolveInitRecorded!: (r: Exit) => void;
  private readonly initRecorded = new Promise<Exit>((r) => (this.resolveInitRecorded = r));
  private tornDown = false;
  /** Called when the service has nothing left to do (sandbox gone, final exit acknowledged). */
  onFinished: () => void = () => {};
  /** Called each time an init or exec process has started. */
  onProcessStarted: () => void = () => {};

  constructor(
    readonly id: string,
    readonly config: ContainerConfig,
    readonly driver: Driver,
    readonly paths: ContainerPaths,
    readonly dynamicEnv: Record<string, string>,
  ) {
    this.logs = new LogWriter(paths);
  }

  /** Runs verbs that change state one at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => {}); // the caller gets the failure from `next`; the lock only orders the next call
    return next;
  }

  private newProc(processId: string, spec: ProcessSpec): Proc {
    let resolveRecorded!: (r: Exit) => void;
    const recorded = new Promise<Exit>((r) => (resolveRecorded = r));
    const p: Proc = { processId, spec, status: "created", recorded, resolveRecorded };
    this.procs.set(processId, p);
    return p;
  }

  private proc(processId: unknown): Proc {
    const id = validateId(processId, "process id");
    if (!id.ok) throw new BerthError(id.error.code, id.error.message);
    const p = this.procs.get(id.value);
    if (!p) throw new BerthError("notFound", `process ${id.value} not found in container ${this.id}: expected ${[...this.procs.keys()].join(", ") || "a created process"}`);
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
    return { id: this.id, status: this.status, driver: this.driver.name, isolation: this.driver.isolation, servicePid: process.pid, processes };
  }

  createProcess(body: { processId?: unknown; spec?: unknown }): Promise<ProcessView> {
    return this.serial(async () => {
      refuseUnless(LIFECYCLE.commands.createProcess, "create a process", this.id, this.status);
      const id = validateId(body.processId, "process id");
      if (!id.ok) throw new BerthError(id.error.code, id.error.message);
      if (id.value === this.id || this.procs.has(id.value)) throw new BerthError("exists", `process ${id.value} already exists in container ${this.id}`);
      const spec = validateProcessSpec(body.spec, `process ${id.value}`);
      if (!spec.ok) throw new BerthError(spec.error.code, spec.error.message);
      // Like `docker exec`: the process inherits the container's environment, its own env wins.
      spec.value.env = { ...this.dynamicEnv, ...this.config.init.env, ...spec.value.env };
      this.newProc(id.value, spec.value);
      return { status: "created" };
    });
  }

  startProcess(body: { processId?: unknown }): Promise<Started> {
    return this.serial(async () => {
      if (body.processId === this.id) return this.startInit();
      const p = this.proc(body.processId);
      refuseUnless(LIFECYCLE.start.exec, `start process ${p.processId}`, this.id, this.status);
      if (p.status !== "created") throw new BerthError("invalidState", `cannot start process ${p.processId}: it is ${p.status}, expected created`);
      const started = await this.driver.exec(p.processId, p.spec, (s, chunk) => this.logs.write(p.processId, s, chunk));
      return this.track(p, started);
    });
  }

  private async startInit(): Promise<Started> {
    refuseUnless(LIFECYCLE.start.init, "start init", this.id, this.status);
    // Dynamic env (computed by the daemon at bootstrap) fills in; the user's config wins.
    const spec: ProcessSpec = { ...this.config.init, env: { ...this.dynamicEnv, ...this.config.init.env } };
    const p = this.newProc(this.id, spec);
    try {
      const started = await this.driver.startInit(spec, (s, chunk) => this.logs.write(this.id, s, chunk));
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
    this.onProcessStarted();
    void started.exited.then((exit) => this.onExit(p, exit));
    return { pid: started.pid, startedAt: started.startedAt };
  }

  /** Record first, report second: the record is on disk before any waiter hears of the exit. */
  private onExit(p: Proc, rec: Exit): void {
    this.logs.flush(p.processId);
    try {
      writeExitRecord(this.paths.exits, rec);
    } catch (err) {
      console.error(`cannot write the exit record of ${p.processId}: ${(err as Error).message}`);
    }
    p.status = "exited";
    p.exit = rec;
    p.resolveRecorded(rec);
    if (p.processId === this.id) this.resolveInitRecorded(rec);
    for (const fn of this.exitListeners) fn(rec);
    if (p.processId === this.id && this.status === "running") {
      // init ended by itself: the sandbox is finished; release it without waiting for a stop.
      void this.serial(() => this.finishSandbox());
    }
  }

  /** Waits for every exec'd process, then removes the sandbox. */
  private async finishSandbox(): Promise<void> {
    if (this.tornDown) return;
    this.status = "stopping";
    const running = [...this.procs.values()].filter((p) => p.status === "running");
    for (const p of running) await this.driver.signal(p.processId, "SIGKILL").catch(() => {}); // already exited: teardown below reaps the rest
    // teardown also ends wrappers that outlive their process, so wait for the records after it.
    await this.driver.teardown();
    await Promise.all(running.map((p) => p.recorded));
    this.tornDown = true;
    this.status = "stopped";
    this.maybeFinish();
  }

  async kill(body: { processId?: unknown; signal?: unknown }): Promise<ProcessView> {
    const p = this.proc(body.processId);
    const sig = normaliseSignal(body.signal ?? "SIGKILL");
    if (!sig.ok) throw new BerthError(sig.error.code, sig.error.message);
    if (p.status !== "running") throw new BerthError("invalidState", `cannot signal process ${p.processId}: it is ${p.status}, expected running`);
    await this.driver.signal(p.processId, sig.value);
    // For SIGKILL the reply waits until the exit has been observed and recorded.
    if (sig.value === "SIGKILL") await p.recorded;
    return this.state().processes[p.processId]!;
  }

  stop(body: { signal?: unknown; timeoutInSeconds?: unknown }): Promise<ServiceState> {
    const sig = normaliseSignal(body.signal ?? this.config.stopSignal);
    if (!sig.ok) return Promise.reject(new BerthError(sig.error.code, sig.error.message));
    const timeout = body.timeoutInSeconds ?? this.config.stopTimeoutSeconds;
    if (typeof timeout !== "number" || !(timeout >= 0)) return Promise.reject(new BerthError("invalidArgument", "timeoutInSeconds must be a number >= 0"));
    return this.serial(async () => {
      await this.thaw();
      if (this.status === "stopped") return this.state();
      const init = this.procs.get(this.id);
      if (init?.status === "running") {
        await this.driver.signal(this.id, sig.value).catch(() => {}); // already exited: the race below sees its record
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          init.recorded.then(() => false),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeout * 1000))),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          await this.driver.signal(this.id, "SIGKILL").catch(() => {}); // exited meanwhile: its record settles the wait
          await init.recorded;
        }
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
    await this.driver.resume().catch(() => {}); // a thaw that fails leaves nothing to resume: shutdown's SIGKILL follows
    this.status = "running";
  }

  wait(processId: unknown): Promise<Exit> {
    return this.proc(processId).recorded;
  }

  ack(body: { processId?: unknown; pid?: unknown }): { acked: boolean } {
    const id = validateId(body.processId, "process id");
    if (!id.ok) throw new BerthError(id.error.code, id.error.message);
    if (!Number.isInteger(body.pid)) throw new BerthError("invalidArgument", "ack needs an integer pid");
    const acked = ackExitRecord(this.paths.exits, id.value, body.pid as number);
    const init = this.procs.get(this.id);
    if (acked && id.value === this.id && init?.exit?.pid === body.pid) this.initAcked = true;
    this.maybeFinish();
    return { acked };
  }

  /** Releases everything, whatever the state: kills what runs, tears down, then the service exits. */
  shutdown(): Promise<ServiceState> {
    return this.serial(async () => {
      await this.thaw();
      const init = this.procs.get(this.id);
      if (init?.status === "running") {
        await this.driver.signal(this.id, "SIGKILL").catch(() => {}); // exited meanwhile: its record settles the wait
        await init.recorded;
      }
      this.tornDown = false; // a stop may have left nothing, but teardown is idempotent
      await this.finishSandbox();
      return this.state();
    });
  }

  private maybeFinish(): void {
    const init = this.procs.get(this.id);
    if (this.tornDown && (!init || init.status !== "exited" || this.initAcked)) this.onFinished();
  }

  exitsSnapshot(): Exit[] {
    return readExitRecordsIn(this.paths.exits);
  }

  onExitRecorded(fn: (r: Exit) => void): () => void {
    this.exitListeners.add(fn);
    return () => this.exitListeners.delete(fn);
  }

  /** The logs as they are now, entry by entry (a file read, not a copy in memory). */
  logEntries(q: LogQuery): Iterable<LogEntry> {
    return logEntries(this.paths, q);
  }

  /** Follows the log files until init is done and its output flushed; `emit` may push back. */
  followLogs(q: LogQuery, signal: AbortSignal, emit: (e: LogEntry) => void | Promise<void>): Promise<void> {
    return followLogs(this.paths, q, { onWrite: (fn) => this.logs.subscribe(fn), done: this.initDone(), signal, emit });
  }

  /**
   * Is init finished (so `logs --follow` can end)? Also for a follow opened before init starts
   * (`run` opens it first, so that no line is missed).
   */
  initDone(): Promise<unknown> {
    return this.initRecorded;
  }

  close(): void {
    this.logs.close();
  }
}

export type Routes = Record<string, Route>;
