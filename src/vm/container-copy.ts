// `berth cp`: copies between the host and a container's root filesystem, with docker's rules
// for directories and trailing slashes. Container paths are resolved with resolveInRoot at
// every level of a copy into the container, so a symlink in the container (to /etc, to
// ../../..) always lands inside its rootfs, never on the host.
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

const nameOf = (p: string) => posix.basename(posix.normalize(p.replace(/\/\.?$/, "") || "/"));

/** Container → host. */
export function copyOut(rootfs: string, container: string, srcPath: string, hostDst: string): void {
  const src = resolveInRoot(rootfs, srcPath, false);
  const s = lstat(src);
  if (!s) throw new BerthError("notFound", `could not find the file ${srcPath} in container ${container}`);
  if (/\/\.?$/.test(srcPath) && !s.isDirectory()) throw new BerthError("invalidArgument", `not a directory: ${srcPath} in container ${container}`);
  const d = stat(hostDst);
  if (!d && !stat(dirname(hostDst))?.isDirectory()) throw new BerthError("notFound", `destination directory ${dirname(hostDst)} does not exist`);
  const how = landing(srcPath, s.isDirectory(), { exists: !!d, isDir: !!d?.isDirectory(), trailing: hostDst.endsWith("/") }, hostDst);
  const options = { recursive: true, verbatimSymlinks: true, preserveTimestamps: true, force: true } as const;
  if (how === "contents") for (const e of fs.readdirSync(src)) fs.cpSync(join(src, e), join(hostDst, e), options);
  else fs.cpSync(src, how === "into" ? join(hostDst, nameOf(srcPath)) : hostDst, options);
}

/** Host → container. */
export function copyIn(rootfs: string, container: string, hostSrc: string, dstPath: string): void {
  const s = lstat(hostSrc);
  if (!s) throw new BerthError("notFound", `could not find the file ${hostSrc}`);
  if (/\/\.?$/.test(hostSrc) && !s.isDirectory()) throw new BerthError("invalidArgument", `not a directory: ${hostSrc}`);
  const dst = resolveInRoot(rootfs, dstPath, true);
  const d = stat(dst);
  if (!d && !stat(dirname(dst))?.isDirectory()) throw new BerthError("notFound", `destination directory ${posix.dirname(dstPath)} does not exist in container ${container}`);
  const how = landing(hostSrc, s.isDirectory(), { exists: !!d, isDir: !!d?.isDirectory(), trailing: dstPath.endsWith("/") }, `${container}:${dstPath}`);
  if (how === "contents") for (const e of fs.readdirSync(hostSrc)) put(rootfs, join(hostSrc, e), posix.join(dstPath, e));
  else put(rootfs, hostSrc, how === "into" ? posix.join(dstPath, basename(hostSrc.replace(/\/\.?$/, ""))) : dstPath);
}

/** Copies one host entry to container path `to`, resolving its parent inside the rootfs first. */
function put(rootfs: string, from: string, to: string): void {
  const s = fs.lstatSync(from);
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
    fs.chmodSync(into, s.mode & 0o7777);
    for (const e of fs.readdirSync(from)) put(rootfs, join(from, e), posix.join(to, e));
    fs.utimesSync(into, s.atime, s.mtime);
    return;
  }
  // A file or a symlink replaces what is there; an existing symlink is never written through.
  if (existing && (existing.isSymbolicLink() || !existing.isDirectory())) fs.rmSync(target, { force: true });
  if (existing?.isDirectory()) throw new BerthError("invalidArgument", `cannot overwrite directory ${to} with a file`);
  if (s.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), target);
  else {
    fs.copyFileSync(from, target);
    fs.chmodSync(target, s.mode & 0o7777);
    fs.utimesSync(target, s.atime, s.mtime);
  }
}
