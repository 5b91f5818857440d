// `berth cp` with `-`, as docker's: a tar archive of a container path to stdout
// (`cp c:/srv -`), or a tar archive from stdin unpacked into a container directory
// (`cp - c:/srv`). Container paths resolve inside the container's root (resolveInRoot), at every
// entry: a symlink already in the container, or one the archive itself creates, never leads an
// entry to the host, and an entry that climbs above the destination (`../x`) is refused.
import fs from "node:fs";
import { join, posix } from "node:path";
import { BerthError } from "../model/errors.js";
import { resolveInRoot } from "./container-path.js";
import { readTar, tarHeader, tarPadding, TAR_END, type TarEntry } from "./tar.js";

export interface TarOptions {
  /** -L: follow SRC when it is a symlink (inner links stay links, as docker's). */
  followLink?: boolean;
}

const CHUNK = 1 << 20;
const seconds = (s: fs.Stats) => s.mtimeMs / 1000;

/**
 * The tar archive of container path `srcPath`, in chunks: its entries are named after the
 * path's last component (`srv/…`), or `./…` for `DIR/.`, with the owners and modes in the container.
 */
export function* tarOut(rootfs: string, container: string, srcPath: string, opts: TarOptions = {}): Generator<Buffer> {
  const src = resolveInRoot(rootfs, srcPath, opts.followLink === true);
  const top = fs.lstatSync(src, { throwIfNoEntry: false });
  if (!top) throw new BerthError("notFound", `could not find the file ${srcPath} in container ${container}`);
  if (/\/\.?$/.test(srcPath) && !top.isDirectory()) throw new BerthError("invalidArgument", `not a directory: ${srcPath} in container ${container}`);
  const name = /\/\.$/.test(srcPath) || srcPath === "/." ? "." : posix.basename(posix.normalize(srcPath.replace(/\/$/, "") || "/")) || ".";
  yield* entries(src, name === "/" ? "." : name);
  yield TAR_END;
}

function* entries(path: string, name: string): Generator<Buffer> {
  const s = fs.lstatSync(path);
  const base = { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, mtime: seconds(s) };
  if (s.isDirectory()) {
    yield tarHeader({ ...base, name: `${name}/`, type: "dir" });
    for (const e of fs.readdirSync(path).sort()) yield* entries(join(path, e), `${name}/${e}`);
  } else if (s.isSymbolicLink()) {
    yield tarHeader({ ...base, name, type: "symlink", linkname: fs.readlinkSync(path) });
  } else if (s.isFile()) {
    yield tarHeader({ ...base, name, type: "file", size: s.size });
    const fd = fs.openSync(path, "r");
    try {
      let left = s.size;
      while (left > 0) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK, left));
        const n = fs.readSync(fd, chunk, 0, chunk.length, null);
        if (n === 0) throw new BerthError("internalError", `${name} shrank while it was copied`);
        left -= n;
        yield chunk.subarray(0, n);
      }
    } finally {
      fs.closeSync(fd);
    }
    yield tarPadding(s.size);
  }
  // Sockets, fifos and devices are left out: docker's archive keeps them, but Node cannot mknod.
}

export interface UntarOptions {
  /** -a: keep the archive's uid and gid; else the entries belong to the copier (root). */
  archive?: boolean;
}

/**
 * Unpacks `archive` into container directory `dstPath`, which must exist. Returns the names it
 * skipped (devices, fifos: Node cannot create them).
 */
export function untarIn(rootfs: string, container: string, dstPath: string, archive: Buffer, opts: UntarOptions = {}): string[] {
  const dst = resolveInRoot(rootfs, dstPath, true);
  const d = fs.statSync(dst, { throwIfNoEntry: false });
  if (!d) throw new BerthError("notFound", `could not find the file ${dstPath} in container ${container}`);
  if (!d.isDirectory()) throw new BerthError("invalidArgument", `destination "${container}:${dstPath}" must be a directory`);
  const skipped: string[] = [];
  const dirs: { path: string; mtime: number }[] = [];
  for (const e of readTar(archive)) {
    const rel = posix.normalize(e.name.replace(/^\/+/, ""));
    if (rel === ".." || rel.startsWith("../")) throw new BerthError("invalidArgument", `tar entry ${JSON.stringify(e.name)} climbs out of ${dstPath}`);
    if (rel === "." || rel === "./") {
      if (e.type === "dir") dirs.push({ path: dst, mtime: e.mtime });
      continue;
    }
    const to = posix.join(dstPath, rel);
    const parent = resolveInRoot(rootfs, posix.dirname(to), true);
    fs.mkdirSync(parent, { recursive: true });
    const target = join(parent, posix.basename(to));
    const made = place(rootfs, e, to, target, dstPath, opts.archive === true);
    if (made === undefined) {
      skipped.push(e.name);
      continue;
    }
    if (e.type === "dir") dirs.push({ path: made, mtime: e.mtime });
    else if (e.type === "symlink") fs.lutimesSync(made, e.mtime, e.mtime);
    else fs.utimesSync(made, e.mtime, e.mtime);
  }
  // A directory's time last: creating its entries changed it.
  for (const { path, mtime } of dirs.reverse()) fs.utimesSync(path, mtime, mtime);
  return skipped;
}

/**
 * Creates one entry at host path `target` (container path `to`); returns the path it made.
 * With `own`, it takes the entry's uid and gid before its mode: a chown clears setuid bits.
 */
function place(rootfs: string, e: TarEntry, to: string, target: string, dstPath: string, own: boolean): string | undefined {
  const chown = (p: string) => own && fs.lchownSync(p, e.uid, e.gid);
  const existing = fs.lstatSync(target, { throwIfNoEntry: false });
  if (e.type === "dir") {
    // An existing directory (or a symlink to one, resolved inside the rootfs) is merged into.
    const dir = existing?.isSymbolicLink() ? resolveInRoot(rootfs, to, true) : target;
    if (fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      chown(dir);
      fs.chmodSync(dir, e.mode);
      return dir;
    }
    if (existing) fs.rmSync(target, { force: true });
    fs.mkdirSync(target);
    chown(target);
    fs.chmodSync(target, e.mode);
    return target;
  }
  if (!["file", "symlink", "hardlink"].includes(e.type)) return undefined;
  if (existing?.isDirectory()) throw new BerthError("invalidArgument", `cannot overwrite directory ${to} with a ${e.type}`);
  // A file or a link replaces what is there; an existing symlink is never written through.
  if (existing) fs.rmSync(target, { force: true });
  if (e.type === "symlink") {
    fs.symlinkSync(e.linkname, target);
    chown(target);
  } else if (e.type === "hardlink") {
    const rel = posix.normalize(e.linkname.replace(/^\/+/, ""));
    if (rel === ".." || rel.startsWith("../")) throw new BerthError("invalidArgument", `tar hard link ${JSON.stringify(e.name)} points out of ${dstPath}`);
    const source = resolveInRoot(rootfs, posix.join(dstPath, rel), false);
    if (!fs.lstatSync(source, { throwIfNoEntry: false })) throw new BerthError("invalidArgument", `tar hard link ${JSON.stringify(e.name)} names ${e.linkname}, which the archive has not created`);
    fs.linkSync(source, target);
  } else {
    fs.writeFileSync(target, e.data, { mode: e.mode & 0o777 });
    chown(target);
    fs.chmodSync(target, e.mode);
  }
  return target;
}
