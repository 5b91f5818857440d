// What exists on the host under a berth root, whatever the journal says: runc's containers,
// container directories, live monitors (conmon, or a runtime service from before it) and mounts. The daemon's start-up scan
// (src/daemon/orphans.ts) compares this with the projection; `system prune --orphans` uses the
// removal verbs below on what the journal does not know.
import fs from "node:fs";
import { join, resolve, sep } from "node:path";
import { findExecutable, runCommand } from "./host.js";
import { mountsUnder, unmountUnder } from "./hostcalls.js";
import { cgroupDirs, containerDir, runcRoot } from "./paths.js";
import { monitorAlive, processFiles, processIdsIn, readMonitor } from "./conmon.js";
import { probeRuntime, readStartTime } from "./runtime-identity.js";

export interface HostInventory {
  /** `runc --root <root>/runc list`: every container runc keeps state for. */
  runc: { id: string; status: string; pid: number }[];
  /** Names of the directories under <root>/containers. */
  directories: string[];
  /** A live monitor of each container that has one: a conmon, or an old runtime service (pid and start time both checked). */
  monitors: Record<string, { pid: number; startTime: number }>;
  /** Mount points under <root>/containers, by container id. */
  mounts: Record<string, string[]>;
}

const containersDir = (root: string) => join(resolve(root), "containers");

export async function hostInventory(root: string): Promise<HostInventory> {
  const directories = fs.existsSync(containersDir(root)) ? fs.readdirSync(containersDir(root), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [];
  const monitors: HostInventory["monitors"] = {};
  for (const id of directories) {
    const monitor = liveMonitor(root, id);
    if (monitor) monitors[id] = monitor;
  }
  const mounts: HostInventory["mounts"] = {};
  const prefix = containersDir(root) + sep;
  for (const point of mountsUnder(containersDir(root))) {
    const id = point.startsWith(prefix) ? point.slice(prefix.length).split(sep)[0] : undefined;
    if (id) (mounts[id] ??= []).push(point);
  }
  return { runc: await runcContainers(root), directories, monitors, mounts };
}

function liveMonitor(root: string, id: string): { pid: number; startTime: number } | undefined {
  const dir = containerDir(root, id);
  for (const processId of processIdsIn(dir)) {
    const monitor = readMonitor(processFiles(dir, id, processId).conmonPidFile);
    if (monitor && monitorAlive(monitor)) return monitor;
  }
  const legacy = probeRuntime(root, id);
  return legacy.alive ? { pid: legacy.endpoint.pid, startTime: legacy.endpoint.startTime } : undefined;
}

async function runcContainers(root: string): Promise<HostInventory["runc"]> {
  const runc = findExecutable("runc", fs.existsSync);
  if (!runc || !fs.existsSync(runcRoot(root))) return [];
  const r = await runCommand(runc, ["--root", runcRoot(root), "list", "--format", "json"]);
  if (r.code !== 0) throw new Error(`runc list failed: ${r.stderr.trim()}`);
  const list = (JSON.parse(r.stdout || "null") ?? []) as { id: string; status: string; pid: number }[];
  return list.map((c) => ({ id: c.id, status: c.status, pid: c.pid }));
}

/** SIGKILLs a monitor if it is still the process recorded (same start time), and waits for it. */
export async function killMonitor(monitor: { pid: number; startTime: number }, timeoutMs = 10_000): Promise<void> {
  const same = () => readStartTime(monitor.pid) === monitor.startTime;
  if (!same()) return;
  process.kill(monitor.pid, "SIGKILL");
  const deadline = Date.now() + timeoutMs;
  // A zombie still has its start time; its parent (PID 1 here) reaps it within a second or two.
  while (same() && !isZombie(monitor.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    // Gone from /proc: as good as reaped.
    return true;
  }
}

/** `runc delete --force`: kills the container's processes and removes runc's state. */
export async function removeRuncContainer(root: string, id: string): Promise<void> {
  const runc = findExecutable("runc", fs.existsSync) ?? "runc";
  const r = await runCommand(runc, ["--root", runcRoot(root), "delete", "--force", id]);
  if (r.code !== 0 && fs.existsSync(join(runcRoot(root), id))) throw new Error(`runc delete --force ${id} failed: ${r.stderr.trim()}`);
}

export function unmountAll(points: string[]): void {
  for (const point of points) unmountUnder(point);
}

/** Removes a container's directory and cgroups; refuses while anything is still mounted inside. */
export function removeContainerDir(root: string, id: string): void {
  const dir = containerDir(root, id);
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`cannot remove ${dir}: ${left.join(", ")} still mounted`);
  fs.rmSync(dir, { recursive: true, force: true });
  removeCgroups(root, id);
}

export function removeCgroups(root: string, id: string): void {
  for (const d of cgroupDirs(root, id)) {
    try {
      fs.rmdirSync(d);
    } catch {
      // Absent, or still holding a process (then runc delete failed and said so).
    }
  }
}
