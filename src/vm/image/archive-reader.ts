// An image archive read where it lies, not into memory: its tar headers are scanned once, then
// each member is read by its offset. Small members (index.json, manifest.json, manifests,
// configs) are read whole, under a limit; a layer is streamed through a reused buffer into a
// file, its digest computed on the way. So `load` of an archive with a 1 GB layer holds one
// buffer of it at a time.
import { createHash } from "node:crypto";
import fs from "node:fs";
import { BerthError } from "../../model/errors.js";
import { components } from "../layer.js";
import { parseHeader, parsePax, tarType } from "../tar.js";

const bad = (msg: string) => new BerthError("invalidArgument", msg);

/** Pax records and GNU long names are small; a bigger one is an attack on memory. */
const MAX_META = 1024 * 1024;
/** index.json, manifests and configs: what is read whole. */
export const MAX_SMALL_MEMBER = 16 * 1024 * 1024;
const CHUNK = 1024 * 1024;

interface Member {
  offset: number;
  size: number;
}

export class ArchiveReader {
  private constructor(
    private readonly fd: number,
    private readonly file: string,
    private readonly members: Map<string, Member>,
  ) {}

  /** Opens and indexes an archive: notFound when it cannot be read, invalidArgument when it is not a tar. */
  static open(file: string): ArchiveReader {
    let fd: number;
    try {
      fd = fs.openSync(file, "r");
    } catch (err) {
      throw new BerthError("notFound", `cannot read ${file}: ${(err as Error).message}`);
    }
    try {
      return new ArchiveReader(fd, file, indexMembers(fd, fs.fstatSync(fd).size));
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /** Is there a regular file by this name ("./blobs//x" is "blobs/x")? */
  has(name: string): boolean {
    return this.members.has(normalise(name));
  }

  /** A small member, whole: invalidArgument when it is missing or over the limit. */
  read(name: string): Buffer {
    const m = this.member(name);
    if (m.size > MAX_SMALL_MEMBER) throw bad(`${name} in the archive is ${m.size} bytes, over the ${MAX_SMALL_MEMBER}-byte limit for an index, a manifest or a config`);
    const data = Buffer.alloc(m.size);
    if (fs.readSync(this.fd, data, 0, m.size, m.offset) !== m.size) throw bad(`${this.file} is truncated`);
    return data;
  }

  /** A member's first bytes (fewer when it is shorter). */
  head(name: string, length: number): Buffer {
    const m = this.member(name);
    const data = Buffer.alloc(Math.min(length, m.size));
    return data.subarray(0, fs.readSync(this.fd, data, 0, data.length, m.offset));
  }

  /** Streams a member into a new file at `path`; resolves with its digest and size. */
  async copyTo(name: string, path: string): Promise<{ digest: string; size: number }> {
    const m = this.member(name);
    const hash = createHash("sha256");
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(m.size, 1)));
    const out = await fs.promises.open(path, "w", 0o644);
    try {
      for (let done = 0; done < m.size; ) {
        const { bytesRead } = await readAt(this.fd, buffer, Math.min(buffer.length, m.size - done), m.offset + done);
        if (bytesRead === 0) throw bad(`${this.file} is truncated`);
        const view = buffer.subarray(0, bytesRead);
        hash.update(view);
        await out.write(view);
        done += bytesRead;
      }
      await out.sync();
    } finally {
      await out.close();
    }
    return { digest: `sha256:${hash.digest("hex")}`, size: m.size };
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  private member(name: string): Member {
    const m = this.members.get(normalise(name));
    if (!m) throw bad(`the archive is missing ${name}`);
    return m;
  }
}

const normalise = (name: string) => components(name).join("/");

const readAt = (fd: number, buffer: Buffer, length: number, position: number) =>
  new Promise<{ bytesRead: number }>((resolve, reject) => fs.read(fd, buffer, 0, length, position, (err, bytesRead) => (err ? reject(err) : resolve({ bytesRead }))));

/** Every regular file's place in the archive, by its normalised name (a name with ".." is refused). */
function indexMembers(fd: number, fileSize: number): Map<string, Member> {
  const members = new Map<string, Member>();
  const header = Buffer.alloc(512);
  let longName: string | undefined;
  let pax = new Map<string, string>();
  for (let off = 0; off + 512 <= fileSize; ) {
    fs.readSync(fd, header, 0, 512, off);
    const h = parseHeader(header, off);
    if (!h) break; // the end-of-archive marker
    const dataAt = off + 512;
    if (dataAt + h.size > fileSize) throw bad("truncated tarball");
    off = dataAt + Math.ceil(h.size / 512) * 512;
    if (h.flag === "L" || h.flag === "x") {
      if (h.size > MAX_META) throw bad(`a tar ${h.flag} header of ${h.size} bytes is over the ${MAX_META}-byte limit`);
      const data = Buffer.alloc(h.size);
      fs.readSync(fd, data, 0, h.size, dataAt);
      if (h.flag === "L") longName = data.toString("utf8").replace(/\0.*$/s, "");
      else pax = parsePax(data);
      continue;
    }
    if (h.flag === "K" || h.flag === "g") continue;
    const name = pax.get("path") ?? longName ?? h.name;
    longName = undefined;
    pax = new Map();
    if (tarType(h.flag) === "file") members.set(normalise(name), { offset: dataAt, size: h.size });
  }
  return members;
}
