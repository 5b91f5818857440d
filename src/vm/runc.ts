// The runc driver: real isolation, with conmon as the keeper of every process (src/vm/conmon.ts).
// prepare runs `runc create` under conmon; init starts with `runc start`, exec'd processes under
// conmon of their own. The daemon is the parent of none of them: they outlive it, and their
// exits are read from conmon's exit files (src/vm/process-watch.ts).
import fs from "node:fs";
import { join } from "node:path";
import type { ContainerConfig, ProcessSpec } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import { signalOf, type Exit } from "../model/exit.js";
import { cgroupStatistics, readOomKillCount } from "./cgroup-stats.js";
import { attachPoint, launch, monitorAlive, prepareLaunch, processFiles, readMonitor, readPid, readRecordedExit, runcBinary, type AttachPoint, type LaunchOptions, type PendingLaunch } from "./conmon.js";
import { startFailureReason, type Driver, type DriverOptions, type MonitorIdentity, type SandboxNetwork, type SandboxProbe, type SandboxProcess, type Statistics } from "./driver.js";
import { runCommand } from "./host.js";
import { checkBindMounts, checkRootfs } from "./mount-policy.js";
import { ociProcess, ociSpec } from "./oci-spec.js";
import { cgroupPath, containerPaths, runcRoot, type ContainerPaths } from "./paths.js";
import { watchProcess, type ProcessWatch } from "./process-watch.js";
import { rotateIfFull } from "./log-rotation.js";
import { prepareContainerRootfs, releaseContainerRootfs } from "./rootfs.js";

function isRuncInit(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("runc:[");
  } catch {
    return false; // gone: not waiting for a start any more
  }
}

interface Tracked {
  pid: number;
  exited: boolean;
  /** Signals berth sent it: the evidence that a 128+N exit was that signal. */
  sent: Set<string>;
  watch: ProcessWatch;
}

// How often a rotated log's size is checked: a fast writer may overshoot max-size by what it writes meanwhile.
const ROTATION_CHECK_MS = 250;

// How long teardown waits for conmon to record the exits of the processes `runc delete` killed.
const EXIT_RECORD_WAIT_MS = 5000;

export class RuncDriver implements Driver {
  readonly name = "runc" as const;
  readonly isolation = "runc" as const;
  private readonly root: string;
  private readonly id: string;
  private readonly config: ContainerConfig;
  private readonly paths: ContainerPaths;
  private readonly cgroup: string;
  private rootfs: string | null = null;
  private created: { pid: number; monitor: MonitorIdentity } | undefined;
  private readonly procs = new Map<string, Tracked>();
  /** Exec'd processes set up for a client to attach to before they run (prepareExec). */
  private readonly pending = new Map<string, PendingLaunch>();
  /** Stops the log-rotation checks of the processes that have them. */
  private readonly rotations = new Set<() => void>();

  constructor(opts: DriverOptions) {
    this.root = opts.root;
    this.id = opts.id;
    this.config = opts.config;
    this.paths = containerPaths(opts.root, opts.id);
    this.cgroup = cgroupPath(opts.root, opts.id);
  }

  private files(processId: string) {
    return processFiles(this.paths.dir, this.id, processId);
  }

  private async runc(args: string[]) {
    // runc's own errors go to a JSON log, so they can be told apart from the container's stderr.
    return runCommand(runcBinary() ?? "runc", ["--root", runcRoot(this.root), "--log", this.paths.runcLog, "--log-format", "json", ...args]);
  }

  async prepare(init: ProcessSpec, network: SandboxNetwork): Promise<void> {
    if (this.created) return;
    fs.mkdirSync(this.paths.bundle, { recursive: true });
    this.rootfs = await prepareContainerRootfs(this.root, this.config.rootfs, this.paths);
    // A stopped container left by an earlier boot must go before the id can be reused.
    await this.deleteContainer();
    this.writeBundle(init, network);
    const files = this.files(this.id);
    fs.rmSync(files.dir, { recursive: true, force: true }); // the earlier boot's exit is journaled already
    this.created = await launch(this.launchOptions(this.id, init, false));
  }

  private launchOptions(processId: string, spec: ProcessSpec, exec: boolean): LaunchOptions {
    const socketDir = join(this.paths.dir, "attach");
    const io = { ...(spec.terminal ? { terminal: true } : {}), ...(spec.stdin ? { stdin: spec.stdin } : {}), ...(this.config.log?.driver === "none" ? { logDriver: "none" as const } : {}) };
    return { containerId: this.id, processId, bundle: this.paths.bundle, runcRoot: runcRoot(this.root), runcLog: this.paths.runcLog, files: this.files(processId), socketDir, exec, ...io };
  }

  attachPoint(processId: string): AttachPoint {
    return attachPoint({ bundle: this.paths.bundle, files: this.files(processId), exec: processId !== this.id });
  }

  private writeBundle(init: ProcessSpec, network: SandboxNetwork): void {
    // The bind mounts are checked again at every write, not only at create: a symlink source can
    // have been re-pointed at the berth root since.
    const masks = checkBindMounts(this.config.mounts, this.root);
    checkRootfs(this.config.rootfs, this.root);
    const spec = ociSpec(this.config, init, this.rootfs!, this.cgroup, network, masks);
    fs.writeFileSync(join(this.paths.bundle, "config.json"), JSON.stringify(spec, null, 1));
  }

  monitor(): MonitorIdentity | undefined {
    return this.created?.monitor ?? readMonitor(this.files(this.id).conmonPidFile);
  }

  async startInit(): Promise<SandboxProcess> {
    if (!this.created) throw new BerthError("invalidState", "cannot start init: the sandbox is not prepared");
    const oomBefore = readOomKillCount(this.cgroup);
    // Taken before the call: a process that exits at once must not seem to end before it started.
    const startedAt = Date.now();
    const r = await this.runc(["start", this.id]);
    if (r.code !== 0) {
      const detail = r.stderr.trim() || "runc start failed";
      const why = startFailureReason(detail);
      throw new BerthError(why === "executableNotFound" ? "invalidArgument" : "internalError", `cannot start init: ${detail}`, why);
    }
    return this.track(this.id, this.created.pid, startedAt, this.created.monitor, [], oomBefore);
  }

  /** Sets up an exec'd process with a terminal or stdin so that a client can attach before it runs. */
  async prepareExec(processId: string, spec: ProcessSpec): Promise<void> {
    this.writeProcessSpec(processId, spec);
    this.pending.set(processId, await prepareLaunch(this.launchOptions(processId, spec, true)));
  }

  private writeProcessSpec(processId: string, spec: ProcessSpec): void {
    if (!this.rootfs) throw new BerthError("invalidState", `cannot exec ${processId}: the sandbox is not prepared`);
    const files = this.files(processId);
    fs.rmSync(files.dir, { recursive: true, force: true });
    fs.mkdirSync(files.dir, { recursive: true });
    fs.writeFileSync(files.spec, JSON.stringify(ociProcess(spec, this.rootfs, this.config.network, processId)));
  }

  async exec(processId: string, spec: ProcessSpec): Promise<SandboxProcess> {
    const pending = this.pending.get(processId);
    this.pending.delete(processId);
    if (!pending) this.writeProcessSpec(processId, spec);
    const oomBefore = readOomKillCount(this.cgroup);
    const startedAt = Date.now();
    const { pid, monitor } = await (pending ? pending.start() : launch(this.launchOptions(processId, spec, true)));
    return this.track(processId, pid, startedAt, monitor, [], oomBefore);
  }

  adopt(processId: string, pid: number, startedAt: number, signalsSent: string[]): SandboxProcess | undefined {
    const files = this.files(processId);
    const monitor = readMonitor(files.conmonPidFile);
    if (processId === this.id && monitor) this.created = { pid, monitor };
    this.rootfs ??= this.paths.rootfs;
    if (readRecordedExit(files)) return this.track(processId, pid, startedAt, monitor ?? { pid: 0, startTime: -1 }, signalsSent, Infinity);
    return monitor ? this.track(processId, pid, startedAt, monitor, signalsSent, readOomKillCount(this.cgroup)) : undefined;
  }

  adoptBoot(): "created" | SandboxProcess | undefined {
    const files = this.files(this.id);
    const monitor = readMonitor(files.conmonPidFile);
    const pid = readPid(files.pidFile);
    const exited = readRecordedExit(files);
    if (pid === undefined || (!exited && (!monitor || !monitorAlive(monitor)))) return undefined;
    const identity = monitor ?? { pid: 0, startTime: -1 };
    this.created = { pid, monitor: identity };
    this.rootfs = this.paths.rootfs;
    // Until `runc start`, init is runc's own `runc:[2:INIT]` waiting on its fifo.
    if (!exited && isRuncInit(pid)) return "created";
    // Started before the daemon died (the start's outcome was not journaled): follow it from when it began.
    return this.track(this.id, pid, this.startTime() ?? Date.now(), identity, [], readOomKillCount(this.cgroup));
  }

  /**
   * When `runc start` ran: it removes the exec fifo from runc's state directory, which sets the
   * directory's mtime. (init's own start time in /proc is the earlier `runc create`.)
   */
  private startTime(): number | undefined {
    try {
      return Math.floor(fs.statSync(join(runcRoot(this.root), this.id)).mtimeMs);
    } catch {
      return undefined; // runc's state is gone (deleted): the time is not known
    }
  }

  /** Keeps a running process's log within the container's max-size and max-file, until it ends. */
  private rotateLog(processId: string, watch: ProcessWatch): void {
    const log = this.config.log;
    if (log?.driver !== "k8s-file" || log.maxSizeBytes === undefined) return;
    const limits = { maxSizeBytes: log.maxSizeBytes, maxFiles: log.maxFiles ?? 1 };
    const path = this.files(processId).log;
    const control = this.attachPoint(processId).control;
    const timer = setInterval(() => {
      try {
        rotateIfFull(path, control, limits);
      } catch {
        // the container is being removed: the next check, if any, finds nothing to rotate
      }
    }, ROTATION_CHECK_MS);
    timer.unref();
    const stop = () => clearInterval(timer);
    void watch.exited.then(stop, stop);
    void watch.lost.then(stop, stop);
    this.rotations.add(stop);
  }

  private track(processId: string, pid: number, startedAt: number, monitor: MonitorIdentity, signalsSent: string[], oomBefore: number): SandboxProcess {
    const watch = watchProcess(this.files(processId), monitor, processId);
    this.rotateLog(processId, watch);
    const tracked: Tracked = { pid, exited: false, sent: new Set(signalsSent), watch };
    this.procs.set(processId, tracked);
    const exited = watch.exited.then((rec): Exit => {
      tracked.exited = true;
      const signal = signalOf(rec.exitCode, tracked.sent);
      // conmon's oom file, or the cgroup's counter (kept until runc delete) for a kill it missed.
      const oomKilled = rec.oomKilled || (signal === "SIGKILL" && readOomKillCount(this.cgroup) > oomBefore);
      return { processId, pid, exitCode: rec.exitCode, ...(signal ? { signal } : {}), oomKilled, exitedAt: rec.exitedAt };
    });
    void watch.lost.then(() => (tracked.exited = true));
    return { processId, pid, startedAt, exited, lost: watch.lost };
  }

  async signal(processId: string, signal: string): Promise<void> {
    const tracked = this.procs.get(processId);
    if (!tracked || tracked.exited) throw new BerthError("invalidState", `cannot signal ${processId}: it is not running`);
    tracked.sent.add(signal);
    if (processId === this.id) {
      const r = await this.runc(["kill", this.id, signal]);
      if (r.code !== 0 && !tracked.exited) throw new BerthError("invalidState", `runc kill ${this.id} ${signal} failed: ${r.stderr.trim()}`);
      return;
    }
    // runc kill only reaches init; an exec'd process is signalled by its host pid, which cannot
    // have been reused while conmon, its parent, has not written its exit (checked first).
    if (readRecordedExit(this.files(processId))) return;
    try {
      process.kill(tracked.pid, signal as NodeJS.Signals);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }

  async pause(): Promise<void> {
    const r = await this.runc(["pause", this.id]);
    if (r.code !== 0) throw new BerthError("invalidState", `runc pause ${this.id} failed: ${r.stderr.trim()}`);
  }

  async resume(): Promise<void> {
    const r = await this.runc(["resume", this.id]);
    if (r.code !== 0) throw new BerthError("invalidState", `runc resume ${this.id} failed: ${r.stderr.trim()}`);
  }

  async statistics(): Promise<Statistics> {
    const init = this.procs.get(this.id);
    return cgroupStatistics(this.cgroup, init && !init.exited ? init.pid : null);
  }

  private async deleteContainer(): Promise<void> {
    if (!fs.existsSync(join(runcRoot(this.root), this.id))) return;
    const r = await this.runc(["delete", "--force", this.id]);
    if (r.code !== 0 && fs.existsSync(join(runcRoot(this.root), this.id))) {
      throw new BerthError("internalError", `runc delete ${this.id} failed: ${r.stderr.trim()}`);
    }
  }

  async teardown(): Promise<void> {
    const running = [...this.procs.values()].filter((t) => !t.exited);
    for (const t of running) t.sent.add("SIGKILL"); // what `runc delete --force` sends every process
    await this.deleteContainer();
    // conmon records each exit as it reaps the process: wait for those records (bounded).
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise((r) => (timer = setTimeout(r, EXIT_RECORD_WAIT_MS)));
    await Promise.race([Promise.all(running.map((t) => Promise.race([t.watch.exited, t.watch.lost]))), deadline]);
    clearTimeout(timer);
    this.created = undefined;
    // The overlay goes last: nothing in the sandbox can hold it any more.
    releaseContainerRootfs(this.paths);
  }

  /** Stops following the processes (the daemon closes); they go on under conmon. */
  close(): void {
    for (const stop of this.rotations) stop();
    for (const t of this.procs.values()) t.watch.close();
  }

  async probe(): Promise<SandboxProbe> {
    if (!fs.existsSync(join(runcRoot(this.root), this.id))) return { status: "absent" };
    const r = await runCommand(runcBinary() ?? "runc", ["--root", runcRoot(this.root), "state", this.id]);
    if (r.code !== 0) return { status: "absent" };
    const state = JSON.parse(r.stdout) as { status: string; pid: number };
    const status = state.status === "running" || state.status === "paused" ? "running" : state.status === "created" ? "created" : "stopped";
    if (status === "created") return { status, initPid: state.pid };
    return status === "running" ? { status, initPid: state.pid, frozen: state.status === "paused" } : { status };
  }
}
