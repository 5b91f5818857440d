// `berth cp`: copies between the host and a container's root filesystem, with docker's rules
// for directories and trailing slashes. Container paths are resolved with resolveInRoot at
// every level of a copy into the container, so a symlink in the container (to /etc, to
// ../../..) always lands inside its rootfs, never on the host. As docker's: `-a` keeps the
// source's uid and gid (else the copy belongs to the copier, root), and `-L` follows SRC when
// it is a symlink (the copy keeps the link's name; links inside a copied tree stay links).
import fs from "node:fs";
import { basename, dirname, join, posix } from "node:path";
import { BerthError } from "../model/errors.js";
import { resolveInRoot } from "./container-path.js";

const lstat = (p: string) => fs.lstatSync(p, { throwIfNoEntry: false });
const stat = (p: string) => fs.statSync(p, { throwIfNoEntry: false });

/** Where a copy lands, by docker's rules: into an existing directory under the source's name, else at the destination. */
function landing(srcPath: string, srcIsDir: boolean, dst: { exists: boolean; isDir: boolean; trailing: boolean }, where: string): "into" | "at" | "contents" {
  if (srcIsDir) {
    if (dst.exists && !dst.isDir) throw new BerthError("invalidArgument", `cannot copy a directory to a file: ${where}`);
    if (!dst.exists) return "at";
    return /\/\.$/.test(srcPath) ? "contents" : "into";
  }
  if (dst.exists) return dst.isDir ? "into" : "at";
  if (dst.trailing) throw new BerthError("notFound", `destination directory ${where} does not exist`);
  return "at";
}

export interface CopyOptions {
  /** -a: keep the source's uid and gid. */
  archive?: boolean;
  /** -L: follow SRC when it is a symlink. */
  followLink?: boolean;
}

const nameOf = (p: string) => posix.basename(posix.normalize(p.replace(/\/\.?$/, "") || "/"));

/** Container → host. */
export function copyOut(rootfs: string, container: string, srcPath: string, hostDst: string, opts: CopyOptions = {}): void {
  const src = resolveInRoot(rootfs, srcPath, opts.followLink === true);
  const s = lstat(src);
  if (!s) throw new BerthError("notFound", `could not find the file ${srcPath} in container ${container}`);
  if (/\/\.?$/.test(srcPath) && !s.isDirectory()) throw new BerthError("invalidArgument", `not a directory: ${srcPath} in container ${container}`);
  const d = stat(hostDst);
  if (!d && !stat(dirname(hostDst))?.isDirectory()) throw new BerthError("notFound", `destination directory ${dirname(hostDst)} does not exist`);
  const how = landing(srcPath, s.isDirectory(), { exists: !!d, isDir: !!d?.isDirectory(), trailing: hostDst.endsWith("/") }, hostDst);
  const options = { recursive: true, verbatimSymlinks: true, preserveTimestamps: true, force: true } as const;
  const pairs = how === "contents" ? fs.readdirSync(src).map((e) => [join(src, e), join(hostDst, e)] as const) : [[src, how === "into" ? join(hostDst, nameOf(srcPath)) : hostDst] as const];
  for (const [from, to] of pairs) {
    fs.cpSync(from, to, options);
    if (opts.archive) ownLike(from, to);
  }
}

/** Gives each entry of the copy `to` the uid and gid of its source, modes again after (a chown clears setuid bits). */
function ownLike(from: string, to: string): void {
  const s = fs.lstatSync(from);
  fs.lchownSync(to, s.uid, s.gid);
  if (s.isSymbolicLink()) return;
  fs.chmodSync(to, s.mode & 0o7777);
  if (s.isDirectory()) for (const e of fs.readdirSync(from)) ownLike(join(from, e), join(to, e));
}

/** Host → container. */
export function copyIn(rootfs: string, container: string, hostSrc: string, dstPath: string, opts: CopyOptions = {}): void {
  const s = opts.followLink ? stat(hostSrc) : lstat(hostSrc);
  if (!s) throw new BerthError("notFound", `could not find the file ${hostSrc}`);
  // -L: the link's target is copied, under the link's name.
  const from = opts.followLink ? fs.realpathSync(hostSrc) : hostSrc;
  if (/\/\.?$/.test(hostSrc) && !s.isDirectory()) throw new BerthError("invalidArgument", `not a directory: ${hostSrc}`);
  const dst = resolveInRoot(rootfs, dstPath, true);
  const d = stat(dst);
  if (!d && !stat(dirname(dst))?.isDirectory()) throw new BerthError("notFound", `destination directory ${posix.dirname(dstPath)} does not exist in container ${container}`);
  const how = landing(hostSrc, s.isDirectory(), { exists: !!d, isDir: !!d?.isDirectory(), trailing: dstPath.endsWith("/") }, `${container}:${dstPath}`);
  const own = opts.archive === true;
  if (how === "contents") for (const e of fs.readdirSync(from)) put(rootfs, join(from, e), posix.join(dstPath, e), own);
  else put(rootfs, from, how === "into" ? posix.join(dstPath, basename(hostSrc.replace(/\/\.?$/, ""))) : dstPath, own);
}

/**
 * Copies one host entry to container path `to`, resolving its parent inside the rootfs first;
 * with `own`, it takes the source's uid and gid before its mode (a chown clears setuid bits).
 */
function put(rootfs: string, from: string, to: string, own: boolean): void {
  const s = fs.lstatSync(from);
  const chown = (p: string) => own && fs.lchownSync(p, s.uid, s.gid);
  const target = join(resolveInRoot(rootfs, posix.dirname(to), true), posix.basename(to));
  const existing = lstat(target);
  if (s.isDirectory()) {
    // An existing directory (or a symlink to one, resolved inside the rootfs) is merged into.
    const dir = existing?.isSymbolicLink() ? resolveInRoot(rootfs, to, true) : target;
    if (!stat(dir)?.isDirectory()) {
      if (existing) fs.rmSync(target, { force: true });
      fs.mkdirSync(target);
    }
    const into = existing?.isSymbolicLink() && stat(dir)?.isDirectory() ? dir : target;
    chown(into);
    fs.chmodSync(into, s.mode & 0o7777);
    for (const e of fs.readdirSync(from)) put(rootfs, join(from, e), posix.join(to, e), own);
    fs.utimesSync(into, s.atime, s.mtime);
    return;
  }
  // A file or a symlink replaces what is there; an existing symlink is never written through.
  if (existing && (existing.isSymbolicLink() || !existing.isDirectory())) fs.rmSync(target, { force: true });
  if (existing?.isDirectory()) throw new BerthError("invalidArgument", `cannot overwrite directory ${to} with a file`);
  if (s.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(from), target);
    chown(target);
  } else {
    fs.copyFileSync(from, target);
    chown(target);
    fs.chmodSync(target, s.mode & 0o7777);
    fs.utimesSync(target, s.atime, s.mtime);
  }
}
