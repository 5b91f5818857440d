// The runc driver: real isolation. init runs under a foreground `runc run`, exec'd processes
// under a foreground `runc exec`, both children of the runtime service, so every exit status
// (128+N when signalled) reaches the service without it being a subreaper.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { join } from "node:path";
import type { ContainerConfig, ProcessSpec } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import { removeFile } from "../host/remove-file.js";
import { cgroupStatistics, readOomKillCount } from "./cgroup-stats.js";
import { exitFrom, superviseChild } from "./child.js";
import { startFailureReason, type Driver, type DriverOptions, type OutputSink, type SandboxProbe, type SandboxProcess, type Statistics } from "./driver.js";
import { findExecutable, runCommand } from "./host.js";
import { checkBindMounts, checkRootfs } from "./mount-policy.js";
import { ociProcess, ociSpec } from "./oci-spec.js";
import { cgroupPath, containerPaths, runcRoot, type ContainerPaths } from "./paths.js";
import { prepareContainerRootfs, releaseContainerRootfs } from "./rootfs.js";

const exists = (p: string) => fs.existsSync(p);

interface Tracked {
  pid: number;
  exited: boolean;
  /** The `runc run|exec` wrapper, our child. */
  wrapper: import("node:child_process").ChildProcess;
}

// After `runc delete`, how long a `runc exec` wrapper may take to notice its process is gone.
// Seen here: under a full pids cgroup a wrapper can stay behind after its process has exited.
const WRAPPER_GRACE_MS = 2000;

export class RuncDriver implements Driver {
  readonly name = "runc" as const;
  readonly isolation = "runc" as const;
  private readonly root: string;
  private readonly id: string;
  private readonly config: ContainerConfig;
  private readonly paths: ContainerPaths;
  private readonly cgroup: string;
  private readonly runc: string;
  private rootfs: string | null = null;
  private readonly procs = new Map<string, Tracked>();

  constructor(opts: DriverOptions) {
    this.root = opts.root;
    this.id = opts.id;
    this.config = opts.config;
    this.paths = containerPaths(opts.root, opts.id);
    this.cgroup = cgroupPath(opts.root, opts.id);
    this.runc = findExecutable("runc", exists) ?? "runc";
  }

  private globalArgs(): string[] {
    // runc's own errors go to a JSON log, so they can be told apart from the container's stderr.
    return ["--root", runcRoot(this.root), "--log", this.paths.runcLog, "--log-format", "json"];
  }

  async prepare(): Promise<void> {
    if (!findExecutable("runc", exists)) throw new BerthError("unsupported", "runc was not found on PATH: install runc (apt-get install runc) or use the process driver");
    for (const d of [this.paths.bundle, this.paths.processes, this.paths.pids]) fs.mkdirSync(d, { recursive: true });
    this.rootfs = await prepareContainerRootfs(this.root, this.config.rootfs, this.paths);
    this.writeBundle(this.config.init);
  }

  private writeBundle(init: ProcessSpec): void {
    // The bind mounts are checked again at every write, not only at create: a symlink source can
    // have been re-pointed at the berth root since.
    const masks = checkBindMounts(this.config.mounts, this.root);
    checkRootfs(this.config.rootfs, this.root);
    const spec = ociSpec(this.config, init, this.rootfs!, this.cgroup, masks);
    fs.writeFileSync(join(this.paths.bundle, "config.json"), JSON.stringify(spec, null, 1));
  }

  /** The last error runc logged, for messages a person can act on. */
  private lastRuncError(since: number): string | null {
    try {
      const lines = fs.readFileSync(this.paths.runcLog, "utf8").slice(since).split("\n").filter(Boolean);
      for (const line of lines.reverse()) {
        const entry = JSON.parse(line) as { level?: string; msg?: string };
        if (entry.level === "error" || entry.level === "fatal") return entry.msg ?? null;
      }
    } catch {
      /* no log yet */
    }
    return null;
  }

  private logSize(): number {
    try {
      return fs.statSync(this.paths.runcLog).size;
    } catch {
      // No log yet: everything runc writes from now on is new.
      return 0;
    }
  }

  /** Spawns `runc run|exec` and waits for its pid file: the process has started, or failed to. */
  private async launch(processId: string, args: string[], sink: OutputSink): Promise<SandboxProcess> {
    const pidFile = join(this.paths.pids, `${processId}.pid`);
    removeFile(pidFile);
    const oomBefore = readOomKillCount(this.cgroup);
    const logStart = this.logSize();
    const child = spawn(this.runc, [...this.globalArgs(), ...args.slice(0, 1), "--pid-file", pidFile, ...args.slice(1)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const ended = superviseChild(child, sink);
    let done = false;
    void ended.then(() => (done = true));
    let spawnError: Error | null = null;
    child.once("error", (e) => (spawnError = e));
    // runc writes the pid file after the process exists and before it runs the user's binary.
    while (!exists(pidFile)) {
      if (done || spawnError) {
        const reason = this.lastRuncError(logStart) ?? (spawnError as Error | null)?.message ?? "runc exited without starting the process";
        const why = startFailureReason(reason);
        throw new BerthError(why === "executableNotFound" ? "invalidArgument" : "internalError", `cannot start process ${processId}: ${reason}`, why);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const pid = Number(fs.readFileSync(pidFile, "utf8").trim()) || child.pid!;
    const startedAt = Date.now();
    const tracked: Tracked = { pid, exited: false, wrapper: child };
    this.procs.set(processId, tracked);
    const exited = ended.then(({ code, signal, at }) => {
      tracked.exited = true;
      const exit = exitFrom(processId, pid, code, signal, false, at);
      // With a memory limit the cgroup outlives init (run --keep), so its OOM counter is still
      // readable here; without one it is gone and reads 0.
      exit.oomKilled = exit.signal === "SIGKILL" && readOomKillCount(this.cgroup) > oomBefore;
      return exit;
    });
    return { processId, pid, startedAt, exited };
  }

  async startInit(spec: ProcessSpec, sink: OutputSink): Promise<SandboxProcess> {
    if (!this.rootfs) throw new BerthError("invalidState", "cannot start init: the sandbox is not prepared");
    // A stopped container left by an earlier run (--keep) must go before the id can be reused.
    await this.deleteContainer();
    this.writeBundle(spec);
    // With a memory limit the cgroup must outlive init (--keep) so its OOM counter can be read
    // after the exit; docker reports OOM kills only for such limits too. Without one, runc
    // removes the container as init exits, which saves a `runc delete` on every teardown.
    const keep = this.config.resources?.memoryBytes !== undefined ? ["--keep"] : [];
    return this.launch(this.id, ["run", ...keep, "--bundle", this.paths.bundle, this.id], sink);
  }

  async exec(processId: string, spec: ProcessSpec, sink: OutputSink): Promise<SandboxProcess> {
    if (!this.rootfs) throw new BerthError("invalidState", `cannot exec ${processId}: the sandbox is not prepared`);
    const file = join(this.paths.processes, `${processId}.json`);
    fs.writeFileSync(file, JSON.stringify(ociProcess(spec, this.rootfs, this.config.network, processId)));
    return this.launch(processId, ["exec", "--process", file, this.id], sink);
  }

  async signal(processId: string, signal: string): Promise<void> {
    const tracked = this.procs.get(processId);
    if (!tracked || tracked.exited) throw new BerthError("invalidState", `cannot signal ${processId}: it is not running`);
    if (processId === this.id) {
      const r = await runCommand(this.runc, [...this.globalArgs(), "kill", this.id, signal]);
      if (r.code !== 0 && !tracked.exited) throw new BerthError("invalidState", `runc kill ${this.id} ${signal} failed: ${r.stderr.trim()}`);
      return;
    }
    // runc kill only reaches init; an exec'd process is signalled by its host pid, which cannot
    // have been reused yet because its parent (runc exec, our child) has not reaped it.
    try {
      process.kill(tracked.pid, signal as NodeJS.Signals);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }

  async pause(): Promise<void> {
    const r = await runCommand(this.runc, [...this.globalArgs(), "pause", this.id]);
    if (r.code !== 0) throw new BerthError("invalidState", `runc pause ${this.id} failed: ${r.stderr.trim()}`);
  }

  async resume(): Promise<void> {
    const r = await runCommand(this.runc, [...this.globalArgs(), "resume", this.id]);
    if (r.code !== 0) throw new BerthError("invalidState", `runc resume ${this.id} failed: ${r.stderr.trim()}`);
  }

  async statistics(): Promise<Statistics> {
    const init = this.procs.get(this.id);
    return cgroupStatistics(this.cgroup, init && !init.exited ? init.pid : null);
  }

  private async deleteContainer(): Promise<void> {
    if (!exists(join(runcRoot(this.root), this.id))) return;
    const r = await runCommand(this.runc, [...this.globalArgs(), "delete", "--force", this.id]);
    if (r.code !== 0 && exists(join(runcRoot(this.root), this.id))) {
      throw new BerthError("internalError", `runc delete ${this.id} failed: ${r.stderr.trim()}`);
    }
  }

  async teardown(): Promise<void> {
    await this.deleteContainer();
    // Every process in the sandbox is dead now; a wrapper still running is stuck, not waiting.
    const stuck = [...this.procs.values()].filter((t) => !t.exited);
    if (stuck.length > 0) {
      await new Promise((r) => setTimeout(r, WRAPPER_GRACE_MS));
      for (const t of stuck) if (!t.exited) t.wrapper.kill("SIGKILL");
    }
    // The overlay goes last: nothing in the sandbox can hold it any more.
    releaseContainerRootfs(this.paths);
  }

  async probe(): Promise<SandboxProbe> {
    if (!exists(join(runcRoot(this.root), this.id))) return { status: "absent" };
    const r = await runCommand(this.runc, ["--root", runcRoot(this.root), "state", this.id]);
    if (r.code !== 0) return { status: "absent" };
    const state = JSON.parse(r.stdout) as { status: string; pid: number };
    const status = state.status === "running" || state.status === "paused" ? "running" : state.status === "created" ? "created" : "stopped";
    return status === "running" ? { status, initPid: state.pid } : { status };
  }
}
