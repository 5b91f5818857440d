// System calls Node lacks (native/hostcalls): mount and lazy umount for overlay rootfs, and a
// SOCK_SEQPACKET client for conmon's attach socket (src/vm/attach-socket.ts). Loaded on first
// use, so a host without the addon still runs everything else (the rootfs falls back to a copy).
import fs from "node:fs";
import { loadAddon } from "../host/native-addon.js";

export interface Hostcalls {
  mount(source: string, target: string, fstype: string, data: string): void;
  /** umount2(target, MNT_DETACH). */
  umount(target: string): void;
  /** A blocking AF_UNIX SOCK_SEQPACKET socket connected to `dir`/`name`: its fd. */
  seqpacketConnect(dir: string, name: string): number;
  /** shutdown(2): 0 = SHUT_RD, 1 = SHUT_WR, 2 = SHUT_RDWR. */
  shutdown(fd: number, how: 0 | 1 | 2): void;
  /** A new pty pair (posix_openpt): a bench runs a CLI on a terminal of its own. */
  openpty(): { master: number; slave: number };
}

export function hostcalls(): Hostcalls {
  const why = "Overlay root filesystems and attaching to a container's stdio need it";
  return loadAddon<Hostcalls>("hostcalls", ["mount", "umount", "seqpacketConnect", "shutdown", "openpty"], { label: "hostcalls", why }, process.env.BERTH_HOSTCALLS_ADDON);
}

/** The mount points under `dir` (inclusive), deepest first, from /proc/self/mountinfo. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  const points = new Set<string>();
  for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    // Field 5 is the mount point, with spaces and backslashes octal-escaped.
    const point = line.split(" ")[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (point && (point === dir || point.startsWith(prefix))) points.add(point);
  }
  return [...points].sort((a, b) => b.length - a.length);
}


/** Unmounts everything mounted at or under `dir` (deepest first, lazily). Idempotent. */
export function unmountUnder(dir: string): void {
  for (const point of mountsUnder(dir)) hostcalls().umount(point);
}
