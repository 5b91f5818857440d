// Turns a ContainerConfig into an OCI runtime spec (config.json) for runc. Defaults follow
// `runc spec` (capabilities, masked and read-only paths, mounts), so a reader who knows runc
// knows what a berth container can do.
import fs from "node:fs";
import type { ContainerConfig, ProcessSpec, Rlimit } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import { join } from "node:path";
import type { SandboxNetwork } from "./driver.js";
import { ETC_FILES } from "./network/etc-files.js";
import { resolveUser } from "./rootfs.js";

const RUNC_DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
// In a network namespace of its own (every mode but host) a raw socket reaches only what that
// namespace does, so we grant NET_RAW there as docker does everywhere; it is what makes ping work.
const PRIVATE_NET_CAPS = [...RUNC_DEFAULT_CAPS, "CAP_NET_RAW"];

const MASKED_PATHS = [
  "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
];
const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

const DEFAULT_MOUNTS = [
  { destination: "/proc", type: "proc", source: "proc" },
  { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
  { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
  { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
  { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
  { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
  { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
];

const LIMIT_LABELS: Record<string, string> = {
  RLIMIT_CPU: "Max cpu time", RLIMIT_FSIZE: "Max file size", RLIMIT_DATA: "Max data size", RLIMIT_STACK: "Max stack size",
  RLIMIT_CORE: "Max core file size", RLIMIT_RSS: "Max resident set", RLIMIT_NPROC: "Max processes", RLIMIT_NOFILE: "Max open files",
  RLIMIT_MEMLOCK: "Max locked memory", RLIMIT_AS: "Max address space", RLIMIT_LOCKS: "Max file locks",
  RLIMIT_SIGPENDING: "Max pending signals", RLIMIT_MSGQUEUE: "Max msgqueue size", RLIMIT_NICE: "Max nice priority",
  RLIMIT_RTPRIO: "Max realtime priority", RLIMIT_RTTIME: "Max realtime timeout",
};

/** This process's hard limits, from /proc/self/limits (Node has no getrlimit). */
function hostHardLimits(): Map<string, number> {
  const out = new Map<string, number>();
  const text = fs.readFileSync("/proc/self/limits", "utf8");
  for (const [type, label] of Object.entries(LIMIT_LABELS)) {
    const line = text.split("\n").find((l) => l.startsWith(label));
    const hard = line?.slice(label.length).trim().split(/\s+/)[1];
    if (hard !== undefined) out.set(type, hard === "unlimited" ? Infinity : Number(hard));
  }
  return out;
}

/**
 * Without CAP_SYS_RESOURCE (the case on these hosts) runc cannot raise a hard limit above ours,
 * and fails late with "setrlimit: Operation not permitted". Refuse it up front instead.
 */
export function checkRlimits(rlimits: Rlimit[], what: string): void {
  const host = hostHardLimits();
  for (const r of rlimits) {
    const hard = host.get(r.type);
    if (hard === undefined) throw new BerthError("invalidArgument", `${what}: unknown rlimit ${r.type}`);
    if (r.hard > hard) throw new BerthError("invalidArgument", `${what}: rlimit ${r.type} hard limit ${r.hard} exceeds the host's hard limit ${hard}`);
  }
}

export function ociProcess(spec: ProcessSpec, rootfs: string, network: ContainerConfig["network"], what: string): Record<string, unknown> {
  checkRlimits(spec.rlimits, what);
  const user = resolveUser(rootfs, spec.user);
  const caps = network === "host" ? RUNC_DEFAULT_CAPS : PRIVATE_NET_CAPS;
  // Like docker: a terminal gets TERM=xterm unless the process's env names a TERM of its own.
  const env = spec.terminal && spec.env.TERM === undefined ? { ...spec.env, TERM: "xterm" } : spec.env;
  return {
    terminal: spec.terminal,
    user: { uid: user.uid, gid: user.gid },
    args: spec.args,
    env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    cwd: spec.cwd,
    capabilities: { bounding: caps, effective: caps, permitted: caps, ambient: caps },
    rlimits: spec.rlimits.map((r) => ({ type: r.type, hard: r.hard, soft: r.soft })),
    noNewPrivileges: true,
  };
}

/**
 * `masks`: container paths hidden under an empty read-only tmpfs, where a read-only bind mount of
 * a parent of the berth root would show the root (src/commands/mounts.ts).
 */
export function ociSpec(config: ContainerConfig, init: ProcessSpec, rootfs: string, cgroupsPath: string, network: SandboxNetwork, masks: readonly string[] = []): Record<string, unknown> {
  const resources: Record<string, unknown> = { devices: [{ allow: false, access: "rwm" }] };
  const r = config.resources;
  // swap = limit: a limited container must not escape its limit into swap.
  if (r.memoryBytes !== undefined) resources.memory = { limit: r.memoryBytes, swap: r.memoryBytes };
  if (r.cpus !== undefined) resources.cpu = { quota: Math.round(r.cpus * 100_000), period: 100_000 };
  if (r.pids !== undefined) resources.pids = { limit: r.pids };

  const namespaces: { type: string; path?: string }[] = [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  // "private": a namespace of its own, whose loopback runc brings up. "host": share ours.
  if (network.namespace === "private") namespaces.push({ type: "network" });
  else if (network.namespace !== "host") namespaces.push({ type: "network", path: network.namespace.path });

  const mounts: Record<string, unknown>[] = DEFAULT_MOUNTS.map((m) => ({ ...m }));
  for (const m of config.mounts) {
    if (!fs.existsSync(m.source)) throw new BerthError("invalidArgument", `mount source ${m.source} does not exist`);
    mounts.push({ destination: m.destination, type: "bind", source: m.source, options: ["rbind", m.readOnly ? "ro" : "rw"] });
  }
  // The network's files first: a user's bind of /etc/hosts (or of /etc) wins, as in docker.
  if (network.etc) for (const file of ETC_FILES) mounts.splice(DEFAULT_MOUNTS.length, 0, { destination: `/etc/${file}`, type: "bind", source: join(network.etc, file), options: ["rbind", "rw"] });
  // After the binds, so each mask lands on top of the bind that exposed the root.
  for (const destination of masks) {
    mounts.push({ destination, type: "tmpfs", source: "tmpfs", options: ["ro", "nosuid", "nodev", "noexec", "size=4k", "mode=0755"] });
  }

  return {
    ociVersion: "1.0.2-dev",
    process: ociProcess(init, rootfs, config.network, "init"),
    root: { path: rootfs, readonly: config.readOnlyRootfs },
    hostname: config.hostname,
    mounts,
    linux: {
      cgroupsPath,
      resources,
      namespaces,
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}
