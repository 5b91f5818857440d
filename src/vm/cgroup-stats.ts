// Statistics from cgroup v1 files and /proc, read directly: cheaper than spawning
// `runc events --stats`, and it also covers what runc leaves out (network, block I/O fallback).
import fs from "node:fs";
import { join } from "node:path";
import type { Statistics } from "./driver.js";

function read(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    // A controller this host lacks, or a cgroup already gone: the statistic is unknown (null).
    return null;
  }
}

function readNumber(file: string): number | null {
  const text = read(file);
  if (text === null) return null;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : null;
}

/** "key value" lines (memory.oom_control, cpu.stat) as a map. */
function readKeyed(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (read(file) ?? "").split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

export function controllerDir(controller: string, cgroupsPath: string): string {
  return join("/sys/fs/cgroup", controller, cgroupsPath);
}

/** The cgroup's OOM-kill counter; 0 when the cgroup does not exist (yet). */
export function readOomKillCount(cgroupsPath: string): number {
  return readKeyed(join(controllerDir("memory", cgroupsPath), "memory.oom_control")).get("oom_kill") ?? 0;
}

export function cgroupPids(cgroupsPath: string): number[] {
  const text = read(join(controllerDir("pids", cgroupsPath), "cgroup.procs")) ?? "";
  return text.split("\n").filter(Boolean).map(Number);
}

/** Network bytes seen from inside a process's network namespace (every interface, lo included). */
export function readNetDev(pid: number): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of (read(`/proc/${pid}/net/dev`) ?? "").split("\n").slice(2)) {
    const [, rest] = line.split(":");
    if (!rest) continue;
    const f = rest.trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

/** Sum of /proc/<pid>/io over live processes: the fallback when blkio reads zero (design §4). */
function procIo(pids: number[]): { read: number; write: number } {
  let r = 0;
  let w = 0;
  for (const pid of pids) {
    const io = new Map<string, number>();
    for (const line of (read(`/proc/${pid}/io`) ?? "").split("\n")) {
      const [k, v] = line.split(":");
      if (k && v) io.set(k.trim(), Number(v.trim()));
    }
    r += io.get("read_bytes") ?? 0;
    w += io.get("write_bytes") ?? 0;
  }
  return { read: r, write: w };
}

function blkio(cgroupsPath: string): { read: number; write: number } {
  let r = 0;
  let w = 0;
  for (const line of (read(join(controllerDir("blkio", cgroupsPath), "blkio.throttle.io_service_bytes")) ?? "").split("\n")) {
    const [, op, v] = line.trim().split(/\s+/);
    if (op === "Read") r += Number(v);
    if (op === "Write") w += Number(v);
  }
  return { read: r, write: w };
}

// memory.limit_in_bytes reads as ~2^63 (rounded to the page size) when unlimited.
const UNLIMITED = 2 ** 60;

export function cgroupStatistics(cgroupsPath: string, initPid: number | null): Statistics {
  const mem = controllerDir("memory", cgroupsPath);
  const limit = readNumber(join(mem, "memory.limit_in_bytes"));
  const cpuStat = readKeyed(join(controllerDir("cpu", cgroupsPath), "cpu.stat"));
  const pids = cgroupPids(cgroupsPath);
  const net = initPid ? readNetDev(initPid) : { rx: 0, tx: 0 };
  let io = blkio(cgroupsPath);
  if (io.read === 0 && io.write === 0) io = procIo(pids);
  const stats: Statistics = {
    memoryUsageBytes: readNumber(join(mem, "memory.usage_in_bytes")) ?? 0,
    memoryLimitBytes: limit === null || limit >= UNLIMITED ? null : limit,
    cpuUsageUsec: Math.floor((readNumber(join(controllerDir("cpuacct", cgroupsPath), "cpuacct.usage")) ?? 0) / 1000),
    networkRxBytes: net.rx,
    networkTxBytes: net.tx,
    blockReadBytes: io.read,
    blockWriteBytes: io.write,
    processCount: readNumber(join(controllerDir("pids", cgroupsPath), "pids.current")) ?? pids.length,
  };
  const oom = readKeyed(join(mem, "memory.oom_control")).get("oom_kill");
  if (oom !== undefined) stats.oomKillCount = oom;
  const failcnt = readNumber(join(mem, "memory.failcnt"));
  if (failcnt !== null) stats.memoryFailCount = failcnt;
  if (cpuStat.has("nr_throttled")) stats.cpuThrottledPeriods = cpuStat.get("nr_throttled")!;
  if (cpuStat.has("throttled_time")) stats.cpuThrottledUsec = Math.floor(cpuStat.get("throttled_time")! / 1000);
  return stats;
}
