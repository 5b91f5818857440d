// `berth image import FILE --name NAME`: unpacks a `docker save` tarball or an OCI image-layout
// tarball into <root>/images/NAME/rootfs. Layers are applied in order with whiteouts honoured.
// Safety is checked here, per entry: no ".." components, no writing through a symlink (an
// absolute symlink followed during extraction would land on the host), hardlinks only to files
// already inside the tree. The image is built in a temp directory and renamed into place, so a
// rejected tarball leaves nothing behind.
import fs from "node:fs";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { validateId } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import { STORE_NAMES } from "./image/store.js";
import { imageRootfs, imagesDir } from "./paths.js";
import { readTar, type TarEntry } from "./tar.js";

const bad = (msg: string) => new BerthError("invalidArgument", msg);

/** "./a/b/" → ["a","b"]; anything with ".." (or NUL) is an escape attempt. */
function components(name: string): string[] {
  if (name.includes("\0")) throw bad(`tar entry ${JSON.stringify(name)} contains NUL`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw bad(`tar entry ${JSON.stringify(name)} would escape the rootfs: ".." is not allowed`);
  return parts;
}

/** Makes sure no parent of parts is a symlink (or missing: then creates it as a directory). */
function safeParent(target: string, parts: string[], entry: string): string {
  let cur = target;
  for (const p of parts.slice(0, -1)) {
    cur = join(cur, p);
    let st: fs.Stats | null = null;
    try {
      st = fs.lstatSync(cur);
    } catch {
      fs.mkdirSync(cur, { mode: 0o755 });
      continue;
    }
    if (st.isSymbolicLink()) throw bad(`tar entry ${JSON.stringify(entry)} passes through the symlink /${parts.slice(0, parts.indexOf(p) + 1).join("/")}: writing through symlinks is not allowed`);
    if (!st.isDirectory()) throw bad(`tar entry ${JSON.stringify(entry)}: /${p} is not a directory`);
  }
  return join(target, ...parts);
}

function removeExisting(path: string): void {
  try {
    const st = fs.lstatSync(path);
    if (st.isDirectory()) return;
    fs.unlinkSync(path); // never write through an existing symlink: replace it
  } catch {
    /* nothing there */
  }
}

export function applyLayer(target: string, layer: Buffer): void {
  const entries = [...readTar(layer[0] === 0x1f && layer[1] === 0x8b ? gunzipSync(layer) : layer)];
  // Whiteouts first: they hide what lower layers put there, not what this layer adds.
  for (const e of entries) {
    const parts = components(e.name);
    const base = parts[parts.length - 1];
    if (!base?.startsWith(".wh.")) continue;
    const dir = safeParent(target, parts, e.name);
    const parent = dirname(dir);
    if (base === ".wh..wh..opq") {
      for (const child of fs.readdirSync(parent)) fs.rmSync(join(parent, child), { recursive: true, force: true });
    } else {
      const hidden = base.slice(4);
      if (hidden === "" || hidden === "." || hidden === "..") throw bad(`invalid whiteout ${JSON.stringify(e.name)}`);
      fs.rmSync(join(parent, hidden), { recursive: true, force: true });
    }
  }
  for (const e of entries) {
    const parts = components(e.name);
    if (parts.length === 0 || parts[parts.length - 1]!.startsWith(".wh.")) continue;
    const path = safeParent(target, parts, e.name);
    writeEntry(target, path, e);
  }
}

function writeEntry(target: string, path: string, e: TarEntry): void {
  switch (e.type) {
    case "dir": {
      let st: fs.Stats | null = null;
      try {
        st = fs.lstatSync(path);
      } catch {
        /* absent */
      }
      if (st && !st.isDirectory()) fs.unlinkSync(path);
      if (!st || !st.isDirectory()) fs.mkdirSync(path);
      fs.chmodSync(path, e.mode);
      break;
    }
    case "file": {
      removeExisting(path);
      // O_EXCL|O_NOFOLLOW: the path was just cleared, so anything there now is a race; refuse it.
      const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, e.mode);
      try {
        fs.writeSync(fd, e.data);
        fs.fchmodSync(fd, e.mode);
      } finally {
        fs.closeSync(fd);
      }
      break;
    }
    case "symlink":
      removeExisting(path);
      fs.symlinkSync(e.linkname, path);
      break;
    case "hardlink": {
      const linkParts = components(e.linkname);
      const source = safeParent(target, linkParts, e.linkname);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(source);
      } catch {
        throw bad(`hardlink ${JSON.stringify(e.name)} points at ${JSON.stringify(e.linkname)}, which is not in the image`);
      }
      if (!st.isFile()) throw bad(`hardlink ${JSON.stringify(e.name)} must point at a regular file inside the image`);
      removeExisting(path);
      fs.linkSync(source, path);
      break;
    }
    default:
      // Device nodes and fifos: runc provides /dev, and nothing else in an image needs them.
      return;
  }
  if (e.uid !== 0 || e.gid !== 0) fs.lchownSync(path, e.uid, e.gid);
}

/** The layer tarballs of a docker-save or OCI-layout archive, bottom first. */
function layersOf(files: Map<string, Buffer>): Buffer[] {
  const get = (name: string) => {
    const b = files.get(name.replace(/^\.\//, ""));
    if (!b) throw bad(`image archive is missing ${name}`);
    return b;
  };
  if (files.has("manifest.json")) {
    const manifest = JSON.parse(get("manifest.json").toString()) as { Layers: string[] }[];
    if (!Array.isArray(manifest) || !manifest[0] || !Array.isArray(manifest[0].Layers)) throw bad("manifest.json has no Layers");
    return manifest[0].Layers.map((l) => get(components(l).join("/")));
  }
  if (files.has("index.json")) {
    const blob = (digest: string) => {
      const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
      if (!m) throw bad(`unsupported digest ${digest}`);
      return get(`blobs/sha256/${m[1]}`);
    };
    const index = JSON.parse(get("index.json").toString()) as { manifests: { digest: string }[] };
    const first = index.manifests?.[0];
    if (!first) throw bad("index.json lists no manifests");
    const manifest = JSON.parse(blob(first.digest).toString()) as { layers: { digest: string }[] };
    return (manifest.layers ?? []).map((l) => blob(l.digest));
  }
  throw bad("not an image archive: expected manifest.json (docker save) or index.json (OCI layout)");
}

export async function importImage(root: string, file: string, name: string): Promise<{ name: string; rootfs: string; layers: number }> {
  const id = validateId(name, "image name");
  if (!id.ok) throw new BerthError(id.error.code, id.error.message);
  if (STORE_NAMES.includes(name)) throw new BerthError("invalidArgument", `image name ${name} is reserved for the image store: expected another name`);
  let archive: Buffer;
  try {
    archive = fs.readFileSync(file);
  } catch (err) {
    throw new BerthError("notFound", `cannot read ${file}: ${(err as Error).message}`);
  }
  const files = new Map<string, Buffer>();
  for (const e of readTar(archive)) if (e.type === "file") files.set(components(e.name).join("/"), e.data);
  const layers = layersOf(files);
  const dest = imageRootfs(root, name);
  if (fs.existsSync(dest)) throw new BerthError("exists", `image ${name} already exists`);
  fs.mkdirSync(imagesDir(root), { recursive: true });
  const tmp = fs.mkdtempSync(join(imagesDir(root), ".import-"));
  try {
    const rootfs = join(tmp, "rootfs");
    fs.mkdirSync(rootfs, { mode: 0o755 });
    for (const layer of layers) applyLayer(rootfs, layer);
    fs.mkdirSync(dirname(dest), { recursive: true });
    fs.renameSync(rootfs, dest);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { name, rootfs: dest, layers: layers.length };
}
