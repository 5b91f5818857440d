// The fake driver: deterministic and in memory, for unit tests of the model. It implements the
// same Driver interface and runs in-process. Its "programs" are the args:
//   ["echo", ...words]       prints the words on stdout, exits 0
//   ["fail", msg]            prints msg on stderr, exits 1
//   ["exit", N]              exits with N
//   ["exit-after", MS, N]    exits with N after MS milliseconds (an exit while nobody watches)
//   ["ignore-term", ...]     runs until SIGKILL (SIGTERM is ignored, like a PID 1 without a handler)
//   ["fail-boot", msg]       as init: the boot (prepare) fails with msg
//   ["fail-start", msg]      as init: the boot succeeds, starting init fails with msg
//   anything else            runs until signalled; a signal N ends it with 128+N
// It writes its programs' output in conmon's k8s-file format, so the logs read the same.
import fs from "node:fs";
import { dirname } from "node:path";
import { signalNumber, type ProcessSpec } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import type { Exit } from "../model/exit.js";
import { processFiles } from "./conmon.js";
import type { Driver, DriverOptions, MonitorIdentity, OutputStream, SandboxProbe, SandboxProcess, Statistics } from "./driver.js";
import { containerDir } from "./paths.js";
import { readStartTime } from "./runtime-identity.js";

interface FakeProc {
  processId: string;
  pid: number;
  args: string[];
  exited: boolean;
  end: (exit: Exit) => void;
}

export class FakeDriver implements Driver {
  readonly name = "fake" as const;
  readonly isolation = "fake" as const;
  private readonly id: string;
  private readonly dir: string;
  private readonly initArgs: string[];
  private init: ProcessSpec | undefined;
  private readonly procs = new Map<string, FakeProc>();
  private nextPid = 1000;
  private lastTick = 0;
  prepared = false;
  sandbox: SandboxProbe["status"] = "absent";
  /** Every call, in order, for assertions. */
  readonly calls: string[] = [];

  constructor(opts: DriverOptions) {
    this.id = opts.id;
    this.dir = containerDir(opts.root, opts.id);
    this.initArgs = opts.config.init.args;
  }

  /**
   * Real time, and strictly increasing: every start and exit is later than the one before, so an
   * exit is journaled after its start, and a restarted container's new service (whose pids start
   * at 1000 again) cannot produce an exit that the daemon's (process, pid, exitedAt) dedupe
   * mistakes for the previous one.
   */
  private now(): number {
    this.lastTick = Math.max(Date.now(), this.lastTick + 1);
    return this.lastTick;
  }

  async prepare(init: ProcessSpec): Promise<void> {
    this.calls.push("prepare");
    if (this.initArgs[0] === "fail-boot") throw new BerthError("unsupported", this.initArgs.slice(1).join(" ") || "fail-boot");
    this.prepared = true;
    this.init = init;
  }

  /** The daemon itself: its fake processes die with it. */
  monitor(): MonitorIdentity | undefined {
    const startTime = readStartTime(process.pid);
    return this.prepared && startTime !== null ? { pid: process.pid, startTime } : undefined;
  }

  /** A line of output as conmon would log it. */
  private write(processId: string, stream: OutputStream, text: string): void {
    const log = processFiles(this.dir, this.id, processId).log;
    fs.mkdirSync(dirname(log), { recursive: true });
    const stamp = new Date().toISOString().replace("Z", "000000+00:00");
    fs.appendFileSync(log, `${stamp} ${stream} F ${text}\n`);
  }

  private run(processId: string, spec: ProcessSpec): SandboxProcess {
    const sink = (stream: OutputStream, text: string) => this.write(processId, stream, text);
    const pid = this.nextPid++;
    let end!: (exit: Exit) => void;
    const exited = new Promise<Exit>((r) => (end = r));
    const p: FakeProc = { processId, pid, args: spec.args, exited: false, end };
    this.procs.set(processId, p);
    const startedAt = this.now();
    const finish = (exitCode: number) => this.finish(p, exitCode);
    const [cmd, ...rest] = spec.args;
    // Scripted programs end on a later tick, as a real process would.
    if (cmd === "echo") queueMicrotask(() => (sink("stdout", rest.join(" ")), finish(0)));
    else if (cmd === "fail") queueMicrotask(() => (sink("stderr", rest.join(" ")), finish(1)));
    else if (cmd === "exit") queueMicrotask(() => finish(Number(rest[0] ?? 0)));
    else if (cmd === "exit-after") setTimeout(() => finish(Number(rest[1] ?? 0)), Number(rest[0] ?? 0));
    return { processId, pid, startedAt, exited, lost: new Promise<string>(() => {}) };
  }

  private finish(p: FakeProc, exitCode: number, signal?: string): void {
    if (p.exited) return;
    p.exited = true;
    p.end({ processId: p.processId, pid: p.pid, exitCode, ...(signal ? { signal } : {}), oomKilled: false, exitedAt: this.now() });
  }

  async startInit(): Promise<SandboxProcess> {
    const spec = this.init;
    if (!this.prepared || !spec) throw new BerthError("invalidState", "cannot start init: the sandbox is not prepared");
    this.calls.push("startInit");
    if (spec.args[0] === "fail-start") throw new BerthError("invalidArgument", spec.args.slice(1).join(" ") || "fail-start");
    this.sandbox = "running";
    return this.run(this.id, spec);
  }

  async exec(processId: string, spec: ProcessSpec): Promise<SandboxProcess> {
    if (this.sandbox !== "running") throw new BerthError("invalidState", `cannot exec ${processId}: the sandbox is ${this.sandbox}`);
    this.calls.push(`exec ${processId}`);
    return this.run(processId, spec);
  }

  async signal(processId: string, signal: string): Promise<void> {
    const p = this.procs.get(processId);
    if (!p || p.exited) throw new BerthError("invalidState", `cannot signal ${processId}: it is not running`);
    this.calls.push(`signal ${processId} ${signal}`);
    if (p.args[0] === "ignore-term" && signal !== "SIGKILL") return;
    this.finish(p, 128 + signalNumber(signal), signal);
    if (processId === this.id) for (const other of this.procs.values()) this.finish(other, 137, "SIGKILL");
  }

  paused = false;

  async pause(): Promise<void> {
    this.calls.push("pause");
    this.paused = true;
  }

  async resume(): Promise<void> {
    this.calls.push("resume");
    this.paused = false;
  }

  async statistics(): Promise<Statistics> {
    const live = [...this.procs.values()].filter((p) => !p.exited).length;
    return { memoryUsageBytes: live * 1024 * 1024, memoryLimitBytes: null, cpuUsageUsec: this.calls.length * 1000, networkRxBytes: 0, networkTxBytes: 0, blockReadBytes: 0, blockWriteBytes: 0, processCount: live };
  }

  async teardown(): Promise<void> {
    this.calls.push("teardown");
    for (const p of this.procs.values()) this.finish(p, 137, "SIGKILL");
    this.sandbox = "absent";
  }

  async probe(): Promise<SandboxProbe> {
    return this.sandbox === "running" ? { status: this.sandbox, frozen: this.paused } : { status: this.sandbox };
  }

  /** Nothing of an earlier daemon's fake processes is left to follow. */
  adopt(): SandboxProcess | undefined {
    return undefined;
  }

  adoptBoot(): undefined {
    return undefined;
  }

  close(): void {}
}
