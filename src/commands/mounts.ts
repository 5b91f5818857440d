// Which host paths a bind mount may expose. The berth root holds the journal and the daemon's
// socket, and a container runs as root: write access to the root lets it rewrite berth's memory,
// and even a read-only view reaches the socket (connect() ignores a read-only mount) and reads
// every container's config and logs. Pure: the caller resolves symlinks on the host and passes
// the real paths in (src/vm/mount-policy.ts).
import { isAbsolute, join, relative } from "node:path";
import type { Mount } from "../model/config.js";

export type MountDecision =
  | { ok: true; /** Where the root shows inside the container, to be hidden: a read-only parent. */ mask?: string }
  | { ok: false; message: string };

/** Is `path` equal to or below `dir`? Both are real, normalised absolute paths. */
function within(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * A host directory used as the root filesystem (`--rootfs`) is the lower layer of the container's
 * overlay: everything under it is readable, and a socket under it can be connected to. So the
 * berth root, anything inside it and any parent of it (`/` included) are refused outright.
 */
export function decideRootfsPath(path: string, realPath: string, realRoot: string): MountDecision {
  const shown = realPath === path ? path : `${path} (${realPath} on the host)`;
  if (within(realPath, realRoot)) {
    return { ok: false, message: `cannot use ${shown} as the root filesystem: it is ${realPath === realRoot ? "the berth root" : `inside the berth root ${realRoot}`}, which holds the journal and the daemon's socket; no container may reach them` };
  }
  if (within(realRoot, realPath)) {
    return { ok: false, message: `cannot use ${shown} as the root filesystem: it contains the berth root ${realRoot}, so the container could read the journal and reach the daemon's socket; use a directory that does not contain the root` };
  }
  return { ok: true };
}

/**
 * The berth root and anything inside it are refused in any mode. A parent of the root (`/`
 * included) is refused read-write; read-only it is allowed, as `-v /:/host:ro` is in docker, and
 * the root is hidden under an empty read-only directory at the returned mask.
 */
export function decideBindMount(mount: Mount, realSource: string, realRoot: string): MountDecision {
  const shown = realSource === mount.source ? mount.source : `${mount.source} (${realSource} on the host)`;
  if (realSource === realRoot) {
    return { ok: false, message: `cannot bind mount ${shown}: it is the berth root, which holds the journal and the daemon's socket; no container may reach them` };
  }
  if (within(realSource, realRoot)) {
    return { ok: false, message: `cannot bind mount ${shown}: it is inside the berth root ${realRoot}, which holds the journal and the daemon's socket; no container may reach them` };
  }
  if (!within(realRoot, realSource)) return { ok: true };
  if (!mount.readOnly) {
    return {
      ok: false,
      message:
        `cannot bind mount ${shown} read-write: it contains the berth root ${realRoot}, so the container could rewrite the journal and reach the daemon's socket; ` +
        "mount it read-only (:ro, which hides the root inside the container) or mount a directory that does not contain the root",
    };
  }
  return { ok: true, mask: join(mount.destination, relative(realSource, realRoot)) };
}
