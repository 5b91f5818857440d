// A path inside a container, resolved on the host the way the container's own kernel view
// would: `..` stops at the container's root, and a symlink is read as the container sees it,
// so an absolute target (`/etc`) means the container's /etc and a relative one that climbs
// (`../../../../etc`) is clamped at its root. `berth cp` never names a host path outside the
// rootfs through a container path. (Like docker's, this is checked when the path is resolved;
// a process in the container that swaps a directory for a symlink meanwhile can still race it.)
import { lstatSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { BerthError } from "../model/errors.js";

const MAX_LINKS = 40; // Linux's own limit (ELOOP)

const components = (p: string) => p.split("/").filter((c) => c !== "" && c !== ".");

/**
 * The host path of container path `p` under `rootfs`. Every symlink on the way is followed
 * inside the rootfs; the last component only when `followLast` (cp copies a symlink itself).
 */
export function resolveInRoot(rootfs: string, p: string, followLast: boolean): string {
  let resolved: string[] = [];
  const queue = components(p);
  let links = 0;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part === "..") {
      resolved.pop(); // at the root, `..` is the root, as in the kernel
      continue;
    }
    const candidate = join(rootfs, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      // Does not exist (yet): the rest is taken as written, still under the root.
    }
    if (isLink && (queue.length > 0 || followLast)) {
      if (++links > MAX_LINKS) throw new BerthError("invalidArgument", `too many levels of symbolic links in ${p}`);
      const target = readlinkSync(candidate);
      if (target.startsWith("/")) resolved = [];
      queue.unshift(...components(target));
      continue;
    }
    resolved.push(part);
  }
  return join(rootfs, ...resolved);
}
