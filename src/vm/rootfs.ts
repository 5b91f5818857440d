// Root filesystems: the built-in busybox image, pulled images (src/vm/image/), named (imported)
// images, host directories, and each container's private writable copy, so no container ever
// writes into an image.
import fs from "node:fs";
import { basename, dirname, join } from "node:path";
import { validateId, type RootfsSource } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import { runCommand } from "./host.js";
import { mountsUnder, unmountUnder } from "./hostcalls.js";
import { imageLowers, mountOverlay, type Lowers } from "./image/layers.js";
import { ImageStore, STORE_NAMES } from "./image/store.js";
import { imageRootfs, imagesDir, type ContainerPaths } from "./paths.js";

export const BUSYBOX_IMAGE = "busybox";
const HOST_BUSYBOX = "/bin/busybox";

const PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP = "root:x:0:\nnogroup:x:65534:\n";

/**
 * Builds `<root>/images/busybox/rootfs` from the host's static busybox once. Built in a temp
 * directory and renamed into place, so a concurrent builder or a crash never leaves half an image.
 */
export async function ensureBusyboxImage(root: string): Promise<string> {
  const target = imageRootfs(root, BUSYBOX_IMAGE);
  if (fs.existsSync(join(target, "bin", "busybox"))) return target;
  if (!fs.existsSync(HOST_BUSYBOX)) {
    throw new BerthError("unsupported", `cannot build the busybox image: ${HOST_BUSYBOX} is missing (install busybox-static)`);
  }
  const imageDir = dirname(target);
  fs.mkdirSync(imageDir, { recursive: true });
  const tmp = fs.mkdtempSync(join(imageDir, ".build-"));
  try {
    for (const d of ["bin", "sbin", "usr/bin", "usr/sbin", "dev", "etc", "tmp", "proc", "sys", "root"]) fs.mkdirSync(join(tmp, d), { recursive: true });
    fs.chmodSync(join(tmp, "tmp"), 0o1777);
    fs.copyFileSync(HOST_BUSYBOX, join(tmp, "bin", "busybox"));
    fs.chmodSync(join(tmp, "bin", "busybox"), 0o755);
    // The same as `busybox --install -s` run inside the rootfs, without needing chroot: the
    // host binary is the one we copied, so its applet list is the image's.
    const list = await runCommand(HOST_BUSYBOX, ["--list-full"]);
    if (list.code !== 0) throw new BerthError("internalError", `busybox --list-full failed: ${list.stderr.trim()}`);
    for (const applet of list.stdout.split("\n").filter(Boolean)) {
      const link = join(tmp, applet);
      if (applet === "bin/busybox" || fs.existsSync(link)) continue;
      fs.mkdirSync(dirname(link), { recursive: true });
      fs.symlinkSync("/bin/busybox", link);
    }
    fs.writeFileSync(join(tmp, "etc", "passwd"), PASSWD);
    fs.writeFileSync(join(tmp, "etc", "group"), GROUP);
    fs.writeFileSync(join(tmp, "etc", "hostname"), "busybox\n");
    const mk = await runCommand("mknod", ["-m", "666", join(tmp, "dev", "null"), "c", "1", "3"]);
    if (mk.code !== 0) throw new BerthError("internalError", `mknod /dev/null failed: ${mk.stderr.trim()}`);
    try {
      fs.renameSync(tmp, target);
    } catch (err) {
      // Somebody else finished first; theirs is as good as ours.
      if (!fs.existsSync(join(target, "bin", "busybox"))) throw err;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return target;
}

/** What a container's rootfs is made of: a host directory used in place, or an image's layers. */
export type RootfsTree = { kind: "dir"; dir: string } | { kind: "image"; lowers: Lowers };

const single = (dir: string): RootfsTree => ({ kind: "image", lowers: { base: dirname(dir), names: [basename(dir)] } });

/** The tree a rootfs source refers to; images must exist (busybox is built on demand). */
export async function resolveRootfsSource(root: string, source: RootfsSource): Promise<RootfsTree> {
  if ("path" in source) {
    let st: fs.Stats;
    try {
      st = fs.statSync(source.path);
    } catch {
      throw new BerthError("invalidArgument", `rootfs ${source.path} does not exist: expected a directory`);
    }
    if (!st.isDirectory()) throw new BerthError("invalidArgument", `rootfs ${source.path} is not a directory`);
    // A host directory is used in place, as `runc` and `podman --rootfs` do: the user owns it.
    return { kind: "dir", dir: fs.realpathSync(source.path) };
  }
  // The exact image create resolved (src/vm/image/resolve.ts), even if its tag has moved since.
  const store = new ImageStore(root);
  if (source.resolved) {
    const lowers = imageLowers(store, source.resolved.manifest);
    if (!lowers) throw new BerthError("notFound", `image ${source.image} (${source.resolved.manifest}) is no longer in the image store: pull it again`);
    return { kind: "image", lowers };
  }
  const pulled = store.lookup(source.image);
  const lowers = pulled && imageLowers(store, pulled.manifest, pulled.layers);
  if (lowers) return { kind: "image", lowers };
  if (source.image === BUSYBOX_IMAGE || source.image === `${BUSYBOX_IMAGE}:latest`) return single(await ensureBusyboxImage(root));
  const dir = imageRootfs(root, source.image);
  if (!validateId(source.image).ok || !fs.existsSync(dir)) {
    const known = fs.existsSync(imagesDir(root)) ? fs.readdirSync(imagesDir(root)).filter((n) => !n.startsWith(".") && !STORE_NAMES.includes(n)) : [];
    const names = [BUSYBOX_IMAGE, ...known.filter((k) => k !== BUSYBOX_IMAGE), ...Object.keys(store.refs())];
    throw new BerthError("notFound", `image ${source.image} not found: pull it with \`berth pull ${source.image}\`, or use one of ${names.join(", ")}`);
  }
  return single(dir);
}

/**
 * Copies an image tree into a container's private rootfs, preserving modes, owners and
 * symlinks verbatim (absolute links must keep pointing inside the container, not the host).
 * Device nodes and fifos, which Node cannot create, are copied with `cp -a`.
 */
export async function copyTree(src: string, dst: string): Promise<void> {
  const special: [string, string][] = [];
  const walk = (s: string, d: string) => {
    const st = fs.lstatSync(s);
    if (st.isDirectory()) {
      fs.mkdirSync(d);
      for (const name of fs.readdirSync(s)) walk(join(s, name), join(d, name));
      fs.chmodSync(d, st.mode & 0o7777);
    } else if (st.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(s), d);
    } else if (st.isFile()) {
      fs.copyFileSync(s, d, fs.constants.COPYFILE_FICLONE);
      fs.chmodSync(d, st.mode & 0o7777);
    } else {
      special.push([s, d]);
      return;
    }
    if (st.uid !== 0 || st.gid !== 0) fs.lchownSync(d, st.uid, st.gid);
  };
  walk(src, dst);
  for (const [s, d] of special) {
    const r = await runCommand("cp", ["-a", s, d]);
    if (r.code !== 0) throw new BerthError("internalError", `cannot copy ${s}: ${r.stderr.trim()}`);
  }
}

/**
 * Gives the container its rootfs, kept across stop/start like docker's: an overlay whose lower
 * layer is the image and whose upper layer is the container's own (`<container>/overlay`), or,
 * where overlayfs cannot be mounted (no addon, a filesystem that cannot hold an upper layer,
 * a path overlayfs options cannot express), a private copy of the image. Either way no
 * container ever writes into an image. Returns the directory to use as the OCI root.
 */
export async function prepareContainerRootfs(root: string, source: RootfsSource, paths: Pick<ContainerPaths, "rootfs" | "overlay">): Promise<string> {
  const tree = await resolveRootfsSource(root, source);
  if (tree.kind === "dir") return tree.dir;
  const target = paths.rootfs;
  // Still mounted: an earlier service of this container was killed before its teardown.
  if (mountsUnder(target).includes(target)) return target;
  if (fs.existsSync(join(target, ".berth-ready"))) return target;
  const overlay = mountContainerOverlay(tree.lowers, target, paths.overlay);
  if (overlay === true) return target;
  console.error(`overlay rootfs unavailable for ${target} (${overlay}); using a private copy of the image`);
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  await withImageTree(tree.lowers, `${target}.image`, (dir) => copyTree(dir, tmp));
  fs.writeFileSync(join(tmp, ".berth-ready"), "");
  fs.renameSync(tmp, target);
  return target;
}

/** Runs `fn` on an image's merged tree: its one directory, or a read-only overlay of its layers at `view`. */
async function withImageTree<T>(lowers: Lowers, view: string, fn: (dir: string) => Promise<T>): Promise<T> {
  if (lowers.names.length === 1) return fn(join(lowers.base, lowers.names[0]!));
  fs.mkdirSync(view, { recursive: true });
  mountOverlay(view, lowers);
  try {
    return await fn(view);
  } finally {
    unmountUnder(view);
    fs.rmSync(view, { recursive: true, force: true });
  }
}

/** Mounts the image's layers + `<overlay>/upper` at target; true, or why it could not. */
function mountContainerOverlay(lowers: Lowers, target: string, overlay: string): true | string {
  const upper = join(overlay, "upper");
  const work = join(overlay, "work");
  // overlayfs options are comma-separated, and ':' separates lower layers.
  if ([...lowers.names, upper, work].some((p) => /[,:\\]/.test(p))) return "a path holds ',', ':' or '\\'";
  try {
    for (const d of [upper, work, target]) fs.mkdirSync(d, { recursive: true });
    mountOverlay(target, lowers, { upper, work });
    return true;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Unmounts a container's rootfs overlay (and anything mounted below it). Idempotent. */
export function releaseContainerRootfs(paths: Pick<ContainerPaths, "rootfs">): void {
  unmountUnder(paths.rootfs);
}

/** Resolves "uid", "uid:gid", "name" or "name:group" through the rootfs's /etc/passwd and /etc/group. */
export function resolveUser(rootfs: string, user: string | undefined): { uid: number; gid: number } {
  if (user === undefined || user === "") return { uid: 0, gid: 0 };
  const [u, g] = user.split(":") as [string, string | undefined];
  const table = (file: string) => {
    try {
      return fs.readFileSync(join(rootfs, "etc", file), "utf8").split("\n").map((l) => l.split(":")).filter((f) => f.length >= 3);
    } catch {
      // An image without /etc/passwd or /etc/group: only numeric users resolve.
      return [];
    }
  };
  let uid: number;
  let gid = 0;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    const entry = table("passwd").find((f) => f[2] === u);
    if (entry) gid = Number(entry[3]);
  } else {
    const entry = table("passwd").find((f) => f[0] === u);
    if (!entry) throw new BerthError("invalidArgument", `user ${u} not found in the rootfs's /etc/passwd: expected a name listed there or a numeric uid`);
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const entry = table("group").find((f) => f[0] === g);
      if (!entry) throw new BerthError("invalidArgument", `group ${g} not found in the rootfs's /etc/group: expected a name listed there or a numeric gid`);
      gid = Number(entry[2]);
    }
  }
  return { uid, gid };
}

/**
 * Runs `fn` on a container's root filesystem as its processes see it (for `berth cp`): the
 * mounted overlay or private copy while it has one; for a stopped or created container, its
 * overlay (image + its own upper layer) mounted for the call at `<container>/cp-rootfs` and
 * unmounted after. A `--rootfs DIR` container's rootfs is that directory.
 */
export async function withContainerRootfs<T>(root: string, source: RootfsSource, paths: Pick<ContainerPaths, "dir" | "rootfs" | "overlay">, fn: (rootfs: string) => T): Promise<T> {
  const tree = await resolveRootfsSource(root, source);
  if (tree.kind === "dir") return fn(tree.dir);
  if (mountsUnder(paths.rootfs).includes(paths.rootfs) || fs.existsSync(join(paths.rootfs, ".berth-ready"))) return fn(paths.rootfs);
  const target = join(paths.dir, "cp-rootfs");
  const mounted = mountContainerOverlay(tree.lowers, target, paths.overlay);
  if (mounted !== true) throw new BerthError("unsupported", `cannot mount the container's rootfs to copy: ${mounted}`);
  try {
    return await fn(target); // an async fn (cp to stdout) still reads the mount: unmount after it
  } finally {
    unmountUnder(target);
    fs.rmSync(target, { recursive: true, force: true });
  }
}
