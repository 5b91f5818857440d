// The process driver: unisolated host processes, for hosts without runc or root. State shows
// `isolation: "none"` so nobody mistakes it for a container. Statistics come from /proc.
import { spawn } from "node:child_process";
import fs from "node:fs";
import type { ContainerConfig, ProcessSpec } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import { exitFrom, superviseChild } from "./child.js";
import { spawnFailureReason, type Driver, type DriverOptions, type OutputSink, type SandboxProbe, type SandboxProcess, type Statistics } from "./driver.js";
import { readNetDev } from "./cgroup-stats.js";

interface Tracked {
  pid: number;
  exited: boolean;
  done: Promise<unknown>;
}

export class ProcessDriver implements Driver {
  readonly name = "process" as const;
  readonly isolation = "none" as const;
  private readonly id: string;
  private readonly config: ContainerConfig;
  private readonly procs = new Map<string, Tracked>();
  private cwdBase = "/";

  constructor(opts: DriverOptions) {
    this.id = opts.id;
    this.config = opts.config;
  }

  async prepare(): Promise<void> {
    // A host directory rootfs becomes the working base; images mean nothing without isolation.
    if ("path" in this.config.rootfs) {
      if (!fs.existsSync(this.config.rootfs.path)) throw new BerthError("invalidArgument", `rootfs ${this.config.rootfs.path} does not exist`);
      this.cwdBase = this.config.rootfs.path;
    }
  }

  private launch(processId: string, spec: ProcessSpec, sink: OutputSink): Promise<SandboxProcess> {
    const cwd = fs.existsSync(spec.cwd) ? spec.cwd : this.cwdBase;
    return new Promise((resolve, reject) => {
      const child = spawn(spec.args[0]!, spec.args.slice(1), { cwd, env: spec.env, stdio: ["ignore", "pipe", "pipe"] });
      child.once("error", (e) => reject(new BerthError("invalidArgument", `cannot start process ${processId}: ${e.message}`, spawnFailureReason((e as NodeJS.ErrnoException).code))));
      child.once("spawn", () => {
        const startedAt = Date.now();
        const ended = superviseChild(child, sink);
        const tracked: Tracked = { pid: child.pid!, exited: false, done: ended };
        this.procs.set(processId, tracked);
        const exited = ended.then(({ code, signal, at }) => {
          tracked.exited = true;
          return exitFrom(processId, child.pid!, code, signal, false, at);
        });
        resolve({ processId, pid: child.pid!, startedAt, exited });
      });
    });
  }

  startInit(spec: ProcessSpec, sink: OutputSink): Promise<SandboxProcess> {
    return this.launch(this.id, spec, sink);
  }

  exec(processId: string, spec: ProcessSpec, sink: OutputSink): Promise<SandboxProcess> {
    return this.launch(processId, spec, sink);
  }

  async signal(processId: string, signal: string): Promise<void> {
    const t = this.procs.get(processId);
    if (!t || t.exited) throw new BerthError("invalidState", `cannot signal ${processId}: it is not running`);
    try {
      process.kill(t.pid, signal as NodeJS.Signals);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }

  /** Without a cgroup, SIGSTOP/SIGCONT to each process is the nearest thing to a freezer. */
  async pause(): Promise<void> {
    for (const t of this.procs.values()) if (!t.exited) process.kill(t.pid, "SIGSTOP");
  }

  async resume(): Promise<void> {
    for (const t of this.procs.values()) if (!t.exited) process.kill(t.pid, "SIGCONT");
  }

  async statistics(): Promise<Statistics> {
    let rss = 0;
    let ticks = 0;
    let count = 0;
    for (const t of this.procs.values()) {
      if (t.exited) continue;
      try {
        const status = fs.readFileSync(`/proc/${t.pid}/status`, "utf8");
        rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
        const stat = fs.readFileSync(`/proc/${t.pid}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        ticks += Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
        count++;
      } catch {
        /* exited meanwhile */
      }
    }
    const init = this.procs.get(this.id);
    const net = init && !init.exited ? readNetDev(init.pid) : { rx: 0, tx: 0 };
    // Clock ticks are 100 Hz on Linux (USER_HZ).
    return { memoryUsageBytes: rss, memoryLimitBytes: null, cpuUsageUsec: ticks * 10_000, networkRxBytes: net.rx, networkTxBytes: net.tx, blockReadBytes: 0, blockWriteBytes: 0, processCount: count };
  }

  async teardown(): Promise<void> {
    for (const t of this.procs.values()) {
      if (!t.exited) {
        try {
          process.kill(t.pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
    }
    await Promise.all([...this.procs.values()].map((t) => t.done));
  }

  async probe(): Promise<SandboxProbe> {
    const init = this.procs.get(this.id);
    if (!init) return { status: "absent" };
    return init.exited ? { status: "stopped" } : { status: "running", initPid: init.pid };
  }
}
