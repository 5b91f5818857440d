// Tar's formats (ustar, pax extended headers, GNU long names): headers parsed one at a time
// (layer.ts streams a layer through them, image/archive-reader.ts indexes an archive with
// them), a reader over an in-memory buffer (container-tar.ts), and a writer of ustar headers
// (with pax records for what ustar cannot hold). It only parses and formats; what an entry
// may do to a filesystem is decided by layer.ts and container-tar.ts.
import { BerthError } from "../model/errors.js";

export type TarType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo" | "other";

export interface TarEntry {
  name: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname: string;
  data: Buffer;
}

function str(buf: Buffer, off: number, len: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString("utf8", off, end === -1 || end > off + len ? off + len : end);
}

/** Octal, or base-256 when the high bit of the first byte is set (GNU, for big values). */
function num(buf: Buffer, off: number, len: number): number {
  if (buf[off]! & 0x80) {
    let v = buf[off]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + buf[off + i]!;
    return v;
  }
  const s = str(buf, off, len).trim();
  return s ? parseInt(s, 8) : 0;
}

const TYPES: Record<string, TarType> = { "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "3": "char", "4": "block", "5": "dir", "6": "fifo" };

export function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off < data.length) {
    const space = data.indexOf(0x20, off);
    if (space === -1) break;
    const len = Number(data.toString("utf8", off, space));
    if (!Number.isInteger(len) || len <= 0) throw new BerthError("invalidArgument", "malformed pax header in tarball");
    const record = data.toString("utf8", space + 1, off + len - 1); // without the trailing newline
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    off += len;
  }
  return out;
}

/** One 512-byte header, checked; null for the end-of-archive marker. `flag` is the raw type. */
export interface TarHeader {
  flag: string;
  size: number;
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
}

export function parseHeader(h: Buffer, offset: number): TarHeader | null {
  if (h.every((b) => b === 0)) return null;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  if (sum !== num(h, 148, 8)) throw new BerthError("invalidArgument", `not a tar archive (bad header checksum at offset ${offset})`);
  const prefix = h.toString("utf8", 257, 262) === "ustar" ? str(h, 345, 155) : "";
  const base = str(h, 0, 100);
  return {
    flag: String.fromCharCode(h[156]!),
    size: num(h, 124, 12),
    name: prefix ? `${prefix}/${base}` : base,
    linkname: str(h, 157, 100),
    mode: num(h, 100, 8) & 0o7777,
    uid: num(h, 108, 8),
    gid: num(h, 116, 8),
  };
}

/** The entry type of a header's flag. */
export const tarType = (flag: string): TarType => TYPES[flag] ?? "other";

export function* readTar(buf: Buffer): Generator<TarEntry> {
  let off = 0;
  let longName: string | null = null;
  let longLink: string | null = null;
  let pax = new Map<string, string>();
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break; // end-of-archive marker
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== num(h, 148, 8)) throw new BerthError("invalidArgument", `not a tar archive (bad header checksum at offset ${off})`);
    const size = num(h, 124, 12);
    const flag = String.fromCharCode(h[156]!);
    const dataStart = off + 512;
    if (dataStart + size > buf.length) throw new BerthError("invalidArgument", "truncated tarball");
    const data = buf.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / 512) * 512;
    if (flag === "L") { longName = str(data, 0, data.length); continue; }
    if (flag === "K") { longLink = str(data, 0, data.length); continue; }
    if (flag === "x") { pax = parsePax(data); continue; }
    if (flag === "g") continue;
    const prefix = h.toString("utf8", 257, 262) === "ustar" ? str(h, 345, 155) : "";
    const base = str(h, 0, 100);
    const name = pax.get("path") ?? longName ?? (prefix ? `${prefix}/${base}` : base);
    const linkname = pax.get("linkpath") ?? longLink ?? str(h, 157, 100);
    yield {
      name,
      type: TYPES[flag] ?? "other",
      mode: num(h, 100, 8) & 0o7777,
      uid: pax.has("uid") ? Number(pax.get("uid")) : num(h, 108, 8),
      gid: pax.has("gid") ? Number(pax.get("gid")) : num(h, 116, 8),
      mtime: pax.has("mtime") ? Number(pax.get("mtime")) : num(h, 136, 12),
      linkname,
      data,
    };
    longName = null;
    longLink = null;
    pax = new Map();
  }
}

/** A ustar header for a regular file (names up to 100 bytes: what image archives need). */
export function tarFileHeader(name: string, size: number, mtime = 0): Buffer {
  if (Buffer.byteLength(name) > 100) throw new BerthError("internalError", `tar name too long: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, "utf8");
  const oct = (v: number, off: number, len: number) => h.write(`${v.toString(8).padStart(len - 1, "0")}\0`, off, "ascii");
  oct(0o644, 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(size, 124, 12);
  oct(mtime, 136, 12);
  h.write("        ", 148, "ascii");
  h.write("0", 156, "ascii");
  h.write("ustar\u000000", 257, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return h;
}

/** The zero padding after `size` bytes of data, to the next 512-byte block. */
export const tarPadding = (size: number): Buffer => Buffer.alloc((512 - (size % 512)) % 512);

/** The end-of-archive marker: two zero blocks. */
export const TAR_END = Buffer.alloc(1024);

/** What a written entry says about itself; the data follows the header, padded by tarPadding. */
export interface TarHeaderInput {
  name: string;
  type: "file" | "dir" | "symlink" | "hardlink";
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch (whole seconds in the ustar field; the pax record keeps the fraction). */
  mtime: number;
  size?: number;
  linkname?: string;
}

const FLAG_OF = { file: "0", hardlink: "1", symlink: "2", dir: "5" } as const;

/** One pax record, "LEN key=value\n", whose LEN counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const n = Buffer.byteLength(body);
  let digits = String(n).length;
  while (String(n + digits).length > digits) digits++;
  return `${n + digits}${body}`;
}

/**
 * The header blocks of one entry: a ustar header, preceded by a pax extended header when the
 * name or link is over 100 bytes, an id does not fit its octal field, or mtime has a fraction.
 */
export function tarHeader(e: TarHeaderInput): Buffer {
  const size = e.type === "file" ? (e.size ?? 0) : 0;
  const pax: string[] = [];
  if (Buffer.byteLength(e.name) > 100) pax.push(paxRecord("path", e.name));
  if (e.linkname !== undefined && Buffer.byteLength(e.linkname) > 100) pax.push(paxRecord("linkpath", e.linkname));
  if (e.uid > 0o7777777) pax.push(paxRecord("uid", String(e.uid)));
  if (e.gid > 0o7777777) pax.push(paxRecord("gid", String(e.gid)));
  if (!Number.isInteger(e.mtime)) pax.push(paxRecord("mtime", e.mtime.toFixed(9).replace(/0+$/, "")));
  const block = (name: string, flag: string, bytes: number, mode: number, uid: number, gid: number, linkname: string) => {
    const h = Buffer.alloc(512);
    h.write(Buffer.from(name).subarray(0, 100).toString("latin1"), 0, "latin1");
    const oct = (v: number, off: number, len: number) => h.write(`${Math.trunc(v).toString(8).padStart(len - 1, "0")}\0`, off, "ascii");
    oct(mode & 0o7777, 100, 8);
    oct(uid > 0o7777777 ? 0 : uid, 108, 8);
    oct(gid > 0o7777777 ? 0 : gid, 116, 8);
    oct(bytes, 124, 12);
    oct(Math.max(0, e.mtime), 136, 12);
    h.write("        ", 148, "ascii");
    h.write(flag, 156, "ascii");
    h.write(Buffer.from(linkname).subarray(0, 100).toString("latin1"), 157, "latin1");
    h.write("ustar\u000000", 257, "ascii");
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
    return h;
  };
  const main = block(e.name, FLAG_OF[e.type], size, e.mode, e.uid, e.gid, e.linkname ?? "");
  if (pax.length === 0) return main;
  const records = Buffer.from(pax.join(""));
  return Buffer.concat([block("PaxHeaders/entry", "x", records.length, 0o644, 0, 0, ""), records, tarPadding(records.length), main]);
}
