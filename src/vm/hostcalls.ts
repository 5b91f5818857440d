// System calls Node lacks (native/hostcalls): mount and lazy umount for overlay rootfs. Loaded
// on first use, so a host without the addon still runs everything else (the rootfs falls back
// to a copy). The addon also has dup2, which nothing uses since conmon keeps the containers.
import fs from "node:fs";
import { loadAddon } from "../host/native-addon.js";

export interface Hostcalls {
  mount(source: string, target: string, fstype: string, data: string): void;
  /** umount2(target, MNT_DETACH). */
  umount(target: string): void;
}

export function hostcalls(): Hostcalls {
  const why = "Overlay root filesystems need it";
  return loadAddon<Hostcalls>("hostcalls", ["mount", "umount"], { label: "hostcalls (mount)", why }, process.env.BERTH_HOSTCALLS_ADDON);
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
