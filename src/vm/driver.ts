// The one interface every sandbox driver implements. The runtime service owns exactly one
// driver instance, and through it one sandbox: it boots the sandbox, starts init and exec
// processes as its own children, signals them, samples statistics and tears it all down.
import type { ContainerConfig, ProcessSpec } from "../model/config.js";
import type { ErrorReason } from "../model/errors.js";
import type { Exit } from "../model/exit.js";

export type DriverName = "runc" | "process" | "fake";
export const DRIVER_NAMES: readonly DriverName[] = ["runc", "process", "fake"];

/** What separates the container from the host; "none" is shown to users as-is. */
export type Isolation = "runc" | "none" | "fake";

export type OutputStream = "stdout" | "stderr";
export type OutputSink = (stream: OutputStream, chunk: Buffer) => void;

/** A started process. Output goes to the sink given at start; `exited` never rejects. */
export interface SandboxProcess {
  readonly processId: string;
  /** The host pid of the container process (not of the runc wrapper when it can be known). */
  readonly pid: number;
  /** ms since the epoch: when the driver saw it start, as `exited` tells when it saw it end. */
  readonly startedAt: number;
  readonly exited: Promise<Exit>;
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
}

export interface Driver {
  readonly name: DriverName;
  readonly isolation: Isolation;
  /** Boot: write the bundle, make the rootfs ready, check the host can run it. Idempotent. */
  prepare(): Promise<void>;
  /** Start init (PID 1 of the sandbox). The sandbox exists from here until teardown. */
  startInit(spec: ProcessSpec, sink: OutputSink): Promise<SandboxProcess>;
  /** Start an extra process in the running sandbox. */
  exec(processId: string, spec: ProcessSpec, sink: OutputSink): Promise<SandboxProcess>;
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

/** The same two cases from a failed spawn's errno (the process driver has no runc to word them). */
export function spawnFailureReason(errno: string | undefined): ErrorReason | undefined {
  if (errno === "ENOENT") return "executableNotFound";
  if (errno === "EACCES" || errno === "EISDIR" || errno === "ENOTDIR" || errno === "ENOEXEC") return "notExecutable";
  return undefined;
}
