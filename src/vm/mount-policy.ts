// The host side of the bind-mount rule (src/commands/mounts.ts): symlinks are resolved here, so a
// link to the berth root is caught. The daemon checks at create, so a refused mount is never
// journaled; the runtime checks again just before it writes the bundle, because a link can be
// re-pointed between create and start.
import { realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { decideBindMount, decideRootfsPath } from "../commands/mounts.js";
import type { Mount, RootfsSource } from "../model/config.js";
import { BerthError } from "../model/errors.js";

/** realpath of the longest existing prefix, with the missing rest appended: what a mount would reach. */
export function realHostPath(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch (err) {
    const parent = dirname(absolute);
    // Missing (or under a file): the mount itself will fail, but what it names is still checked.
    const code = (err as NodeJS.ErrnoException).code;
    if ((code !== "ENOENT" && code !== "ENOTDIR") || parent === absolute) throw err;
    return join(realHostPath(parent), basename(absolute));
  }
}

/** Throws invalidArgument for a mount the rule refuses; returns the container paths to hide. */
export function checkBindMounts(mounts: readonly Mount[], root: string): string[] {
  const realRoot = realHostPath(root);
  const masks: string[] = [];
  for (const mount of mounts) {
    const decision = decideBindMount(mount, realHostPath(mount.source), realRoot);
    if (!decision.ok) throw new BerthError("invalidArgument", decision.message);
    if (decision.mask !== undefined) masks.push(decision.mask);
  }
  return masks;
}

/** Throws invalidArgument for a `--rootfs` directory that is, holds or sits inside the berth root. */
export function checkRootfs(rootfs: RootfsSource, root: string): void {
  if (!("path" in rootfs)) return;
  const decision = decideRootfsPath(rootfs.path, realHostPath(rootfs.path), realHostPath(root));
  if (!decision.ok) throw new BerthError("invalidArgument", decision.message);
}
