// Applies one image layer (a tar, gzip-compressed or not) onto a tree, as a stream: a file's
// bytes go to disk as they arrive, so memory stays flat whatever the layer's size. Safety is
// checked per entry: no ".." components in a name, symlinks on its path resolved inside the
// tree (an absolute symlink followed naively would land on the host), never written through
// at its end, hardlinks only to regular files in the tree. Whiteouts hide what lower layers put there, never what this layer adds (the OCI rule),
// so the paths this layer wrote are remembered.
import fs from "node:fs";
import { dirname, join } from "node:path";
import { createGunzip } from "node:zlib";
import { ChunkCollector } from "../host/memory.js";
import { BerthError } from "../model/errors.js";
import { parseHeader, parsePax, tarType, type TarHeader } from "./tar.js";

const bad = (msg: string) => new BerthError("invalidArgument", msg);
/** Names, links and pax records are small; a bigger one is an attack on memory. */
const MAX_META = 1024 * 1024;

/** "./a/b/" → ["a","b"]; anything with ".." (or NUL) is an escape attempt. */
export function components(name: string): string[] {
  if (name.includes("\0")) throw bad(`tar entry ${JSON.stringify(name)} contains NUL`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw bad(`tar entry ${JSON.stringify(name)} would escape the rootfs: ".." is not allowed`);
  return parts;
}

/** Symlinks followed while resolving one path, as Linux's own limit (ELOOP). */
const MAX_LINKS = 40;

/**
 * The host path of an entry, with its parent directories resolved inside the tree as if the
 * tree were `/` (docker's and runc's securejoin): a symlink is followed, an absolute target
 * starts again at the tree's root, and ".." stops there. So a merged-`/usr` image (`/bin →
 * usr/bin` below, `bin/x` above) works as in docker, and no link can lead outside the tree.
 * Missing parents are made as directories. The last component is not followed: a symlink
 * there is replaced, never written through.
 */
function safeParent(target: string, parts: string[], entry: string, known?: Map<string, string>): string {
  const key = parts.slice(0, -1).join("/");
  const base = parts[parts.length - 1]!;
  const hit = known?.get(key);
  if (hit !== undefined) return join(hit, base);
  let resolved: string[] = [];
  const queue = parts.slice(0, -1);
  let links = 0;
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (p === "" || p === ".") continue;
    if (p === "..") {
      resolved.pop();
      continue;
    }
    const cur = join(target, ...resolved, p);
    let st: fs.Stats | null = null;
    try {
      st = fs.lstatSync(cur);
    } catch {
      fs.mkdirSync(cur, { mode: 0o755 });
      resolved.push(p);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw bad(`tar entry ${JSON.stringify(entry)}: more than ${MAX_LINKS} symlinks on its path`);
      const link = fs.readlinkSync(cur);
      if (link.startsWith("/")) resolved = [];
      queue.unshift(...link.split("/"));
      continue;
    }
    if (!st.isDirectory()) throw bad(`tar entry ${JSON.stringify(entry)}: /${[...resolved, p].join("/")} is not a directory`);
    resolved.push(p);
  }
  const parent = join(target, ...resolved);
  known?.set(key, parent);
  return join(parent, base);
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

/**
 * The process's umask, read once from /proc (process.umask() without an argument sets it twice
 * to read it, racing other threads); unknown, every bit counts as masked.
 */
const UMASK = (() => {
  const m = /^Umask:\s+([0-7]+)$/m.exec(fs.readFileSync("/proc/self/status", "utf8"));
  return m ? parseInt(m[1]!, 8) : 0o7777;
})();

const CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/**
 * Creates a file where something may already be (a lower layer's file, a symlink): O_EXCL and
 * O_NOFOLLOW never write through what is there, so on EEXIST it is removed (a directory is
 * not, and the second open refuses it) and the file created again; anything there by then is a
 * race, refused. The common case, a new path, costs one system call.
 */
function createExclusive(path: string, mode: number): number {
  try {
    return fs.openSync(path, CREATE, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    removeExisting(path);
    return fs.openSync(path, CREATE, mode);
  }
}

/** One layer being applied: the tree, and what this layer itself has written so far. */
class LayerWriter {
  /** Host paths this layer wrote (resolved: `bin/x` under `bin → usr/bin` is `usr/bin/x`). */
  private readonly written = new Set<string>();
  /**
   * Parent directories already resolved, by their name in the archive: most entries share
   * their parent with the one before, and resolving it again costs an lstat per component.
   * Only a whiteout removes a directory, and it forgets them all.
   */
  private readonly parents = new Map<string, string>();
  private fd: number | undefined;
  private file: { path: string; header: TarHeader } | undefined;

  constructor(private readonly target: string) {}

  /** An entry's header, with pax / GNU long names already folded in. */
  begin(h: TarHeader): void {
    const parts = components(h.name);
    if (parts.length === 0) return;
    const base = parts[parts.length - 1]!;
    if (base.startsWith(".wh.")) return this.whiteout(parts, h.name);
    const path = safeParent(this.target, parts, h.name, this.parents);
    this.written.add(path);
    const type = tarType(h.flag);
    if (type === "file") {
      this.fd = createExclusive(path, h.mode);
      this.file = { path, header: h };
      return;
    }
    this.writeOther(path, h, type);
  }

  data(chunk: Buffer): void {
    if (this.fd !== undefined) fs.writeSync(this.fd, chunk);
  }

  end(): void {
    if (this.fd === undefined || !this.file) return;
    // open(2) gave the file its mode less the umask: most modes (0644, 0755) came through whole.
    const mode = this.file.header.mode;
    if ((mode & ~UMASK) !== mode) fs.fchmodSync(this.fd, mode);
    if (this.file.header.uid !== 0 || this.file.header.gid !== 0) fs.fchownSync(this.fd, this.file.header.uid, this.file.header.gid);
    fs.closeSync(this.fd);
    this.fd = undefined;
    this.file = undefined;
  }

  abort(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private whiteout(parts: string[], name: string): void {
    const base = parts[parts.length - 1]!;
    const parent = dirname(safeParent(this.target, parts, name, this.parents));
    this.parents.clear();
    const mine = (child: string) => this.written.has(join(parent, child));
    if (base === ".wh..wh..opq") {
      for (const child of fs.readdirSync(parent)) if (!mine(child)) fs.rmSync(join(parent, child), { recursive: true, force: true });
      return;
    }
    const hidden = base.slice(4);
    if (hidden === "" || hidden === "." || hidden === ".." || hidden.startsWith(".wh.")) throw bad(`invalid whiteout ${JSON.stringify(name)}`);
    if (!mine(hidden)) fs.rmSync(join(parent, hidden), { recursive: true, force: true });
  }

  private writeOther(path: string, h: TarHeader, type: ReturnType<typeof tarType>): void {
    switch (type) {
      case "dir": {
        let st: fs.Stats | null = null;
        try {
          st = fs.lstatSync(path);
        } catch {
          /* absent */
        }
        if (st && !st.isDirectory()) fs.unlinkSync(path);
        if (!st || !st.isDirectory()) fs.mkdirSync(path);
        fs.chmodSync(path, h.mode);
        break;
      }
      case "symlink":
        removeExisting(path);
        fs.symlinkSync(h.linkname, path);
        break;
      case "hardlink": {
        const linkParts = components(h.linkname);
        const source = safeParent(this.target, linkParts, h.linkname, this.parents);
        let st: fs.Stats;
        try {
          st = fs.lstatSync(source);
        } catch {
          throw bad(`hardlink ${JSON.stringify(h.name)} points at ${JSON.stringify(h.linkname)}, which is not in the image`);
        }
        if (!st.isFile()) throw bad(`hardlink ${JSON.stringify(h.name)} must point at a regular file inside the image`);
        removeExisting(path);
        fs.linkSync(source, path);
        return; // a hardlink shares its source's owner
      }
      default:
        // Device nodes and fifos: runc provides /dev, and nothing else in an image needs them.
        return;
    }
    if (h.uid !== 0 || h.gid !== 0) fs.lchownSync(path, h.uid, h.gid);
  }
}

/**
 * The tar stream's state machine: headers, meta entries (pax, GNU long names) collected whole,
 * file data passed through in chunks, padding skipped. Throws on a truncated archive.
 */
async function parseInto(source: AsyncIterable<Buffer>, w: LayerWriter): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  let offset = 0;
  let state: { kind: "header" } | { kind: "data"; left: number; pad: number; meta?: string; chunks?: Buffer[] } | { kind: "done" } = { kind: "header" };
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  for await (const chunk of source) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    while (state.kind !== "done") {
      if (state.kind === "header") {
        if (pending.length - at < 512) break;
        const h = parseHeader(pending.subarray(at, at + 512), offset + at);
        at += 512;
        if (!h) {
          state = { kind: "done" };
          break;
        }
        const pad = (512 - (h.size % 512)) % 512;
        if (h.flag === "L" || h.flag === "K" || h.flag === "x" || h.flag === "g") {
          if (h.size > MAX_META) throw bad(`a tar ${h.flag} header of ${h.size} bytes is over the ${MAX_META}-byte limit`);
          state = { kind: "data", left: h.size, pad, meta: h.flag, chunks: [] };
          continue;
        }
        const entry: TarHeader = {
          ...h,
          name: pax.get("path") ?? longName ?? h.name,
          linkname: pax.get("linkpath") ?? longLink ?? h.linkname,
          uid: pax.has("uid") ? Number(pax.get("uid")) : h.uid,
          gid: pax.has("gid") ? Number(pax.get("gid")) : h.gid,
        };
        longName = longLink = undefined;
        pax = new Map();
        w.begin(entry);
        state = { kind: "data", left: h.size, pad };
        continue;
      }
      const take = Math.min(state.left, pending.length - at);
      const piece = pending.subarray(at, at + take);
      if (state.chunks) state.chunks.push(Buffer.from(piece));
      else if (take > 0) w.data(piece);
      at += take;
      state.left -= take;
      if (state.left > 0) break;
      if (pending.length - at < state.pad) break;
      at += state.pad;
      finish(state);
      state = { kind: "header" };
    }
    offset += at;
    pending = pending.subarray(at);
  }
  // umoci's layers end right after the last file's bytes, without its padding or the
  // end-of-archive blocks; GNU tar reads them, and so does berth. Missing data is truncation.
  if (state.kind === "data" && state.left > 0) throw bad("truncated tarball");
  if (state.kind === "data") finish(state);

  function finish(entry: { meta?: string; chunks?: Buffer[] }): void {
    if (!entry.meta) return w.end();
    const data = Buffer.concat(entry.chunks!);
    const text = data.toString("utf8").replace(/\0.*$/s, "");
    if (entry.meta === "L") longName = text;
    else if (entry.meta === "K") longLink = text;
    else if (entry.meta === "x") pax = parsePax(data);
  }
}

/** Applies a layer from a file (a blob in the store) or a buffer; gzip is detected by its magic. */
export async function applyLayer(target: string, layer: string | Buffer): Promise<void> {
  const head = typeof layer === "string" ? readHead(layer) : layer.subarray(0, 4);
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) throw new BerthError("unsupported", "the layer is zstd-compressed, which is not supported yet");
  const raw: AsyncIterable<Buffer> = typeof layer === "string" ? readReusing(layer) : once(layer);
  const source = head[0] === 0x1f && head[1] === 0x8b ? gunzip(raw) : raw;
  const w = new LayerWriter(target);
  try {
    await parseInto(source, w);
  } finally {
    w.abort();
  }
}

/**
 * A file's bytes in chunks read into two buffers in turn, not a new one per chunk: a stream's
 * chunks are garbage V8 collects only once enough of them piled up (reading 300 MB through
 * fs.createReadStream grew a process by 35-40 MB). A chunk stays valid until the next but one
 * is asked for, which is as long as its consumers keep it: parseInto keeps at most a view of
 * the last, and gunzip's feed waits until zlib has consumed each.
 */
async function* readReusing(file: string): AsyncIterable<Buffer> {
  const fh = await fs.promises.open(file, "r");
  const buffers = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)];
  try {
    for (let turn = 0; ; turn ^= 1) {
      const { bytesRead } = await fh.read(buffers[turn]!, 0, READ_CHUNK, null);
      if (bytesRead === 0) return;
      yield buffers[turn]!.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

const READ_CHUNK = 256 * 1024;

async function* once(b: Buffer): AsyncIterable<Buffer> {
  yield b;
}

function readHead(file: string): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const b = Buffer.alloc(4);
    return b.subarray(0, fs.readSync(fd, b, 0, 4, 0));
  } finally {
    fs.closeSync(fd);
  }
}

async function* gunzip(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const z = createGunzip();
  const feed = (async () => {
    try {
      // Each chunk is consumed before the next is read: the reader reuses its buffers.
      for await (const chunk of source) await new Promise<void>((done, fail) => z.write(chunk, (err) => (err ? fail(err) : done())));
      z.end();
    } catch (err) {
      z.destroy(err as Error);
    }
  })();
  const collector = new ChunkCollector();
  try {
    for await (const chunk of z) {
      yield chunk as Buffer;
      collector.done((chunk as Buffer).length);
    }
  } catch (err) {
    throw bad(`the layer is not valid gzip: ${(err as Error).message}`);
  }
  await feed;
}
