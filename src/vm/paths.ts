// Where the VM layer keeps things under the berth root. One place, so the daemon, the drivers
// and the tests agree on every path without passing them around. conmon's own files per
// process are named in src/vm/conmon.ts (processFiles).
import { join, resolve } from "node:path";

/** runc's state directory for this berth root (`runc --root X list` shows berth's containers only). */
export function runcRoot(root: string): string {
  return join(resolve(root), "runc");
}

export function imagesDir(root: string): string {
  return join(resolve(root), "images");
}

/** An image's rootfs: `<root>/images/<name>/rootfs`. */
export function imageRootfs(root: string, name: string): string {
  return join(imagesDir(root), name, "rootfs");
}

export function containerDir(root: string, id: string): string {
  return join(resolve(root), "containers", id);
}

export interface ContainerPaths {
  dir: string;
  bundle: string;
  rootfs: string;
  /** The rootfs overlay's upper and work directories: the container's own changes. */
  overlay: string;
  /** The daemon's ack files, one per journaled exit (src/vm/exits.ts). */
  exits: string;
  /** conmon's k8s-file logs, one per process (src/vm/logs.ts). */
  logs: string;
  /** runc's own error log (JSON lines), kept apart from the container's stderr. */
  runcLog: string;
  /** A runtime service from before conmon named itself here (src/daemon/legacy-service.ts). */
  runtimeJson: string;
  /** The container's /etc/hostname, /etc/hosts and /etc/resolv.conf, bind-mounted into it. */
  etc: string;
}

export function containerPaths(root: string, id: string): ContainerPaths {
  const dir = containerDir(root, id);
  const bundle = join(dir, "bundle");
  return {
    dir,
    bundle,
    rootfs: join(bundle, "rootfs"),
    overlay: join(dir, "overlay"),
    exits: join(dir, "exits"),
    logs: join(dir, "logs"),
    runcLog: join(dir, "runc.log"),
    runtimeJson: join(dir, "runtime.json"),
    etc: join(dir, "etc"),
  };
}

/**
 * The cgroup path runc uses for a container. cgroups are host-global while berth roots are
 * not (every test has its own root), so a hash of the root keeps two roots' "web" apart.
 * FNV-1a: telling a few roots apart needs no cryptographic strength.
 */
export function cgroupPath(root: string, id: string): string {
  return `/berth/${fnv1a64(resolve(root))}-${id}`;
}

/** 64-bit FNV-1a of a string's UTF-16 code units, as 16 hex digits. */
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) hash = ((hash ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash.toString(16).padStart(16, "0");
}

/** Networks under the root (docs/network.md): conflists, host-local's leases, attachments, namespaces. */
export interface NetworkPaths {
  dir: string;
  /** One CNI conflist per network: `<name>.conflist`. */
  conflists: string;
  /** host-local's dataDir: one lease file per address, per network. */
  ipam: string;
  /** One record per container and network: what was ADDed, so a DEL can undo exactly that. */
  attachments: string;
  /** The containers' persistent network namespaces (bind-mounted nsfs files). */
  netns: string;
}

export function networkPaths(root: string): NetworkPaths {
  const dir = join(resolve(root), "networks");
  return { dir, conflists: join(dir, "conf"), ipam: join(dir, "ipam"), attachments: join(dir, "attachments"), netns: join(dir, "netns") };
}

/** Six hex digits of the root's hash: its bridges' prefix ("bt" + these), so two roots never share a bridge. */
export function rootTag(root: string): string {
  return fnv1a64(resolve(root)).slice(0, 6);
}

/** The v1 controllers berth reads statistics from; each has its own hierarchy on these hosts. */
export const CGROUP_CONTROLLERS = ["memory", "cpuacct", "cpu", "pids", "blkio"] as const;

export function cgroupDirs(root: string, id: string): string[] {
  return CGROUP_CONTROLLERS.map((c) => join("/sys/fs/cgroup", c, cgroupPath(root, id)));
}
