// The one interface every sandbox driver implements. The daemon's runtime service of a container
// (src/daemon/runtime-service.ts) owns exactly one driver instance, and through it one sandbox:
// it boots the sandbox, starts init and exec processes under their monitor, signals them,
// samples statistics and tears it all down. The runc driver's processes are kept by conmon and
// outlive the daemon; the fake driver's live in the daemon's memory and die with it.
import type { ContainerConfig, ProcessSpec } from "../model/config.js";
import type { ErrorReason } from "../model/errors.js";
import type { Exit } from "../model/exit.js";
import type { AttachPoint } from "./conmon.js";

export type DriverName = "runc" | "fake";
export const DRIVER_NAMES: readonly DriverName[] = ["runc", "fake"];

/** What separates the container from the host. */
export type Isolation = "runc" | "fake";

export type OutputStream = "stdout" | "stderr";

/** Who keeps a sandbox's processes: a pid and its start time, so a reused pid is never taken for it. */
export interface MonitorIdentity {
  pid: number;
  startTime: number;
}

/** A started process. Its output goes to its log file (src/vm/logs.ts); `exited` never rejects. */
export interface SandboxProcess {
  readonly processId: string;
  /** The host pid of the container process (not of the runc wrapper when it can be known). */
  readonly pid: number;
  /** ms since the epoch: when the driver saw it start, as `exited` tells when it saw it end. */
  readonly startedAt: number;
  readonly exited: Promise<Exit>;
  /** Resolves with why when the process's monitor died without recording its exit. */
  readonly lost: Promise<string>;
}

export interface Statistics {
  memoryUsageBytes: number;
  /** null when unlimited. */
  memoryLimitBytes: number | null;
  cpuUsageUsec: number;
  networkRxBytes: number;
  networkTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  processCount: number;
  /** Present when the cgroup exposes them. */
  oomKillCount?: number;
  memoryFailCount?: number;
  cpuThrottledPeriods?: number;
  cpuThrottledUsec?: number;
}

export type SandboxStatus = "absent" | "created" | "running" | "stopped";

export interface SandboxProbe {
  status: SandboxStatus;
  /** Host pid of init while running. */
  initPid?: number;
  /** Its processes are frozen (runc's "paused"): a pause may have taken effect unjournaled. */
  frozen?: boolean;
}

/**
 * Where a sandbox's network comes from: a namespace of its own with only loopback (runc makes
 * it), the host's, or one that exists already (berth's, plumbed by CNI, or another
 * container's), by path. `etc` holds its hostname, hosts and resolv.conf files to bind in.
 */
export interface SandboxNetwork {
  namespace: "private" | "host" | { path: string };
  etc?: string;
}

export const PRIVATE_NETWORK: SandboxNetwork = { namespace: "private" };

export interface Driver {
  readonly name: DriverName;
  readonly isolation: Isolation;
  /**
   * Boot: write the bundle, make the rootfs ready and create the sandbox with `init` ready to
   * start (runc create, under conmon). The sandbox exists from here until teardown.
   */
  prepare(init: ProcessSpec, network: SandboxNetwork): Promise<void>;
  /** Who keeps the sandbox, once prepared. */
  monitor(): MonitorIdentity | undefined;
  /** Start init (PID 1 of the sandbox), created by prepare. */
  startInit(): Promise<SandboxProcess>;
  /** Start an extra process in the running sandbox (the one prepareExec set up, if it did). */
  exec(processId: string, spec: ProcessSpec): Promise<SandboxProcess>;
  /**
   * Sets up an extra process with a terminal or stdin, ready for a client to attach to before
   * exec runs it. Absent where processes cannot be attached to.
   */
  prepareExec?(processId: string, spec: ProcessSpec): Promise<void>;
  /** Where a client attaches to a process's stdio: absent where processes cannot be attached to. */
  attachPoint?(processId: string): AttachPoint;
  /**
   * A process an earlier daemon started, found again from what its monitor keeps on disk:
   * undefined when nothing of it can be followed any more. `signalsSent` are the signals berth
   * sent it before (journaled), the evidence that a 128+N exit is a signal (model/exit.ts).
   */
  adopt(processId: string, pid: number, startedAt: number, signalsSent: string[]): SandboxProcess | undefined;
  /**
   * The sandbox an earlier daemon's prepare created: "created" while init waits for its start,
   * init itself when that daemon started it and died before journaling so, undefined when
   * nothing of it can be followed.
   */
  adoptBoot(): "created" | SandboxProcess | undefined;
  /** Send a signal to one process; `signal` is a canonical name ("SIGTERM"). */
  signal(processId: string, signal: string): Promise<void>;
  statistics(): Promise<Statistics>;
  /** Freeze every process of the sandbox (cgroup freezer), and thaw them again. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Remove the sandbox (processes, cgroups, mounts). Idempotent; the prepared bundle stays. */
  teardown(): Promise<void>;
  /** Does the sandbox still exist, and in what state? */
  probe(): Promise<SandboxProbe>;
  /** Stops following the processes (the daemon is closing); what conmon keeps goes on. */
  close(): void;
}

export interface DriverOptions {
  root: string;
  id: string;
  config: ContainerConfig;
}

export function isDriverName(v: unknown): v is DriverName {
  return typeof v === "string" && (DRIVER_NAMES as readonly string[]).includes(v);
}

/**
 * Why a process could not be started, from what runc (or the kernel, through spawn) said: the
 * one place that reads those words, so clients read `reason` and never the message. Docker
 * tells the same two cases apart (127 / 126).
 */
export function startFailureReason(detail: string): ErrorReason | undefined {
  if (/executable file not found|no such file/i.test(detail)) return "executableNotFound";
  if (/permission denied|is a directory|exec format error|not a directory/i.test(detail)) return "notExecutable";
  return undefined;
}

