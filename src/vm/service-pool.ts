// Runtime-service processes, and a pool of warm ones. Node's start-up (about 130 ms on these
// hosts) is most of a bootstrap, so a daemon keeps `size` services started, loaded and idle;
// a bootstrap claims one and only boots the sandbox. A warm service is detached like any other
// (its own session), but while idle it is tied to its pool by a pipe: when the pool closes or
// its process dies, the idle services see end-of-file and exit, so none is ever orphaned.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import type { Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { hostcalls } from "./hostcalls.js";

// V8 flags that trim the service's memory: it holds little and lives long.
// --lite-mode: no optimising compiler; the service mostly waits, and it saves about 0.4 MB.
// --no-expose-wasm: lite mode turns WebAssembly off anyway; saying so spares every
// runtime.log the warning "disabling flag --expose_wasm due to conflicting flags".
// --expose-gc: the service runs a full collection before a warm one says ready, and once a
// started process has settled (service/main.ts).
const SERVICE_NODE_FLAGS = ["--max-semi-space-size=1", "--max-old-space-size=64", "--stack-size=512", "--lite-mode", "--no-expose-wasm", "--expose-gc"];

/**
 * How the service entry is run:
 * 1. BERTH_SERVICE_ENTRY (a .js, .mjs or .cjs file, e.g. an esbuild bundle) if set;
 * 2. compiled: this module is dist/src/vm/service-pool.js; the bundle scripts/bundle.mjs wrote
 *    (dist/bundle/service.cjs: one CommonJS file, no msgpackr addon, faster to start, smaller)
 *    if it is at least as new as this module, else service/main.js next to this module;
 * 3. from source (tests, tsx): service/main.ts through `--import tsx`, which costs start-up time.
 */
export function serviceCommand(): string[] {
  const override = process.env.BERTH_SERVICE_ENTRY;
  if (override) return [...SERVICE_NODE_FLAGS, override];
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".js")) {
    // A bundle older than this module predates the last tsc build (`npm run build` does not bundle).
    const bundled = join(dirname(here), "..", "..", "bundle", "service.cjs");
    const fresh = fs.existsSync(bundled) && fs.statSync(bundled).mtimeMs >= fs.statSync(here).mtimeMs;
    return [...SERVICE_NODE_FLAGS, fresh ? bundled : join(dirname(here), "service", "main.js")];
  }
  // Resolved here, not by the child: the service runs with cwd "/", where tsx cannot be found.
  return [...SERVICE_NODE_FLAGS, "--import", import.meta.resolve("tsx"), join(dirname(here), "service", "main.ts")];
}

const READY_LINE = '{"ready":true}';

/**
 * One service process and its starter pipe (fd 3 on its side). The service says at most two
 * lines on it: the ready line (warm services only) and its answer to the boot.
 */
export class ServiceProcess {
  /** Resolves once a warm service is loaded and waiting for a claim, or has exited. */
  readonly ready: Promise<void>;
  /** The service's answer to its boot, or null if it closed the pipe (exited) first. */
  private readonly answer: Promise<string | null>;
  private ended = false;

  private constructor(readonly child: ChildProcess, private readonly pipe: Socket) {
    let markReady!: () => void;
    let answered!: (line: string | null) => void;
    this.ready = new Promise((r) => (markReady = r));
    this.answer = new Promise((r) => (answered = r));
    let buffered = "";
    pipe.on("data", (b: Buffer) => {
      buffered += b.toString();
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line === READY_LINE) markReady();
        else answered(line);
      }
    });
    pipe.on("error", () => {}); // a broken pipe ends in "close", handled below
    pipe.on("close", () => {
      this.ended = true;
      answered(null);
      markReady(); // a dead service is not worth waiting for either
    });
  }

  /** Spawns `node <entry> <root> [id]` detached, its stdout and stderr appended to `logFile`. */
  static spawn(root: string, id: string | null, logFile: string): ServiceProcess {
    const log = fs.openSync(logFile, "a");
    try {
      const child = spawn(process.execPath, [...serviceCommand(), root, ...(id ? [id] : [])], {
        detached: true,
        stdio: ["ignore", log, log, "pipe"],
        cwd: "/",
      });
      child.on("error", () => {}); // a failed spawn closes its pipe: bootAnswer reports the service as exited
      return new ServiceProcess(child, child.stdio[3] as Socket);
    } finally {
      fs.closeSync(log);
    }
  }

  get alive(): boolean {
    return !this.ended && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Hands a warm service its container. */
  claim(id: string): void {
    this.pipe.write(`${JSON.stringify({ id })}\n`);
  }

  /** The service's answer to its boot; null if it exited first or `timeoutMs` passed (then `onTimeout` runs). */
  bootAnswer(timeoutMs: number, onTimeout: () => void): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => {
        onTimeout();
        resolve(null);
      }, timeoutMs);
    });
    return Promise.race([this.answer, late]).finally(() => clearTimeout(timer));
  }

  /** Lets the service live on without us: the pipe closes and nothing keeps our loop busy. */
  release(): void {
    this.pipe.destroy();
    this.child.unref();
  }
}

/** Warm services for one berth root. Size 0 disables it (every bootstrap spawns afresh). */
export class ServicePool {
  private readonly idle: ServiceProcess[] = [];
  private closed = false;
  private refill: NodeJS.Timeout | null = null;
  private refilled: (() => void)[] = [];
  readonly size: number;

  /**
   * `refillDelayMs`: a replacement starts this long after a take. Starting one at once would
   * compete for the CPU with the very container being started (it did, doubling its start).
   */
  constructor(readonly root: string, size: number, private readonly refillDelayMs = 1000) {
    // A claimed service takes over the container's log through dup2: without the addon there is
    // no way to, so there is no pool either.
    let usable = size > 0;
    try {
      if (usable) hostcalls();
    } catch {
      // No hostcalls addon: no pool (see above); services start cold.
      usable = false;
    }
    this.size = usable ? size : 0;
  }

  /** Starts services until `size` are warm or warming. Call it after start-up, off the hot path. */
  fill(): void {
    this.idle.splice(0, this.idle.length, ...this.idle.filter((s) => s.alive));
    while (!this.closed && this.idle.length < this.size) {
      fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
      this.idle.push(ServiceProcess.spawn(this.root, null, join(this.root, "warm-services.log")));
    }
  }

  /** A live warm service (possibly still loading), if any; a replacement starts behind it. */
  take(): ServiceProcess | undefined {
    let taken: ServiceProcess | undefined;
    while (!taken && this.idle.length > 0) {
      const s = this.idle.shift()!;
      if (s.alive) taken = s;
    }
    if (taken && !this.refill) {
      this.refill = setTimeout(() => {
        this.refill = null;
        this.fill();
        for (const fn of this.refilled.splice(0)) fn();
      }, this.refillDelayMs);
      this.refill.unref();
    }
    return taken;
  }

  /** Resolves when the pool is full and every service in it has loaded (benchmarks wait for it). */
  async ready(): Promise<void> {
    if (this.refill) {
      this.refill.ref(); // somebody is waiting for it now
      await new Promise<void>((r) => this.refilled.push(r));
    }
    await Promise.all(this.idle.map((s) => s.ready));
  }

  /** The pids of the idle services (for diagnostics and tests). */
  get idlePids(): number[] {
    return this.idle.filter((s) => s.alive).map((s) => s.child.pid!);
  }

  /** Idle services exit when their pipe closes. */
  close(): void {
    this.closed = true;
    if (this.refill) clearTimeout(this.refill);
    for (const fn of this.refilled.splice(0)) fn();
    for (const s of this.idle.splice(0)) s.release();
  }
}
