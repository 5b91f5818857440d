// Framing and message shapes for berth's IPC: a 4-byte big-endian length, then one msgpack
// value. Both ends build their own codec per connection, because msgpackr's shared record
// structures mis-decode when a peer reconnects (design §4); records are off, so every frame
// stands alone.
import { Packr, RESET_BUFFER_MODE } from "msgpackr";
import type { ErrorInfo } from "../model/errors.js";

export const PROTOCOL_VERSION = 1;
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
const HEADER_BYTES = 4;
/** A declared length above this can never be valid, whatever the configured maximum. */
export const MAX_FRAME_LIMIT = 0xffff_ffff;

export interface Peer {
  uid: number;
  gid: number;
  pid: number;
}

// Client → server.
export type ClientHello = { t: "hello"; v: number };
export type RequestFrame = { t: "req"; id: number; route: string; body?: unknown; timeoutMs?: number };
export type CancelFrame = { t: "cancel"; id: number };
export type ClientFrame = ClientHello | RequestFrame | CancelFrame;

// Server → client. `id: null` answers a frame whose id could not be read.
export type ServerHello = { t: "hello"; v: number; maxFrameBytes: number; peer: Peer };
export type ReplyFrame = { t: "res"; id: number | null; result?: unknown; error?: ErrorInfo };
export type ItemFrame = { t: "item"; id: number; item: unknown };
export type EndFrame = { t: "end"; id: number; error?: ErrorInfo };
/** Connection-level failure; the sender closes the connection right after it. */
export type FatalFrame = { t: "fatal"; code: ErrorInfo["code"]; message: string };
export type ServerFrame = ServerHello | ReplyFrame | ItemFrame | EndFrame | FatalFrame;

/** `int64AsType: "number"` keeps ids and sizes plain numbers instead of BigInt (design §4). */
export function newCodec(): Packr {
  // copyBuffers: a decoded binary value must not be a view of a read buffer that gets reused.
  return new Packr({ useRecords: false, int64AsType: "number", mapsAsObjects: true, copyBuffers: true });
}

/** Encodes one value as a complete frame (header included) in a single buffer, so one write sends it. */
export function encodeFrame(codec: Packr, value: unknown): Buffer {
  return encodeBody(packTransient(codec, value));
}

/**
 * Packs a value whose bytes the caller copies at once. msgpackr packs into one module-wide
 * buffer and, so that earlier results stay valid, starts each pack after the last one, taking a
 * new buffer when it is full: a stream of 16 KiB frames would allocate its whole volume. With
 * RESET_BUFFER_MODE the next pack starts where this one did, after every result still in use.
 */
function packTransient(codec: Packr, value: unknown): Buffer {
  return codec.pack(value, RESET_BUFFER_MODE);
}

/**
 * Reusable buffers for outgoing frames. A stream of large items (16 KiB log entries) would
 * otherwise allocate a fresh buffer per frame, and V8 collects such buffers only after tens of
 * megabytes of them, so every process on the path grows by that much while a log streams.
 * A frame of 4 KiB to 256 KiB is copied into a pooled buffer of its power-of-two size class, and
 * the buffer comes back once the socket has written it (the write's callback); smaller frames
 * use Node's own pool, larger ones are allocated. At most POOL_CLASS_BYTES stay free per class.
 */
const POOL_MIN = 4 * 1024;
const POOL_MAX = 256 * 1024;
const POOL_CLASS_BYTES = 2 * 1024 * 1024;

export class FramePool {
  private readonly free = new Map<number, Buffer[]>();

  /** Encodes `value` as a frame; `release` (when set) must be called once the bytes have been written. */
  encode(codec: Packr, value: unknown): { bytes: Buffer; release: ((err?: Error | null) => void) | undefined } {
    return this.frame([packTransient(codec, value)]);
  }

  /** An item frame for `id` around `item`, the bytes of one msgpack value (see itemPayload). */
  encodeRawItem(id: number, item: Buffer): { bytes: Buffer; release: ((err?: Error | null) => void) | undefined } {
    return this.frame([itemEnvelope(id), item]);
  }

  private frame(parts: Buffer[]): { bytes: Buffer; release: ((err?: Error | null) => void) | undefined } {
    const length = parts.reduce((n, p) => n + p.length, 0);
    const size = HEADER_BYTES + length;
    if (size < POOL_MIN || size > POOL_MAX) return { bytes: encodeBody(parts.length === 1 ? parts[0]! : Buffer.concat(parts, length)), release: undefined };
    const cls = 2 ** Math.ceil(Math.log2(size));
    const list = this.free.get(cls);
    const slab = list?.pop() ?? Buffer.allocUnsafeSlow(cls);
    slab.writeUInt32BE(length, 0);
    let at = HEADER_BYTES;
    for (const p of parts) at += p.copy(slab, at);
    const release = (err?: Error | null) => {
      // A failed write may still be referenced by the handle being torn down: let the GC have it.
      if (err) return;
      const l = this.free.get(cls) ?? [];
      if ((l.length + 1) * cls <= POOL_CLASS_BYTES) l.push(slab);
      this.free.set(cls, l);
    };
    return { bytes: slab.subarray(0, size), release };
  }
}

/**
 * An item frame around bytes that already are one msgpack value, for a relay (the daemon passing
 * a runtime service's log stream on): the item is copied as it is, never decoded into JS strings
 * and re-encoded. The envelope is exactly what msgpackr packs for `{ t: "item", id, item }`.
 */
function itemEnvelope(id: number): Buffer {
  const idBytes = id < 0x80 ? [id] : id < 0x100 ? [0xcc, id] : id < 0x10000 ? [0xcd, id >> 8, id & 0xff] : [0xce, (id >>> 24) & 0xff, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff];
  return Buffer.from([...ENVELOPE_HEAD, ...idBytes, ...ITEM_KEY]);
}

// {"t":"item","id": (a map of 3 entries, as msgpackr writes it: map16) and then "item".
const ENVELOPE_HEAD = [0xde, 0x00, 0x03, 0xa1, 0x74, 0xa4, 0x69, 0x74, 0x65, 0x6d, 0xa2, 0x69, 0x64];
const ITEM_KEY = [0xa4, 0x69, 0x74, 0x65, 0x6d];

/**
 * Where the item of an item frame starts, with the frame's id, without decoding the item; undefined
 * for any other frame or layout (the caller then decodes it as usual).
 */
export function itemPayload(body: Buffer): { id: number; offset: number } | undefined {
  let off: number;
  if (body[0] === 0xde && body[1] === 0 && body[2] === 3) off = 3;
  else if (body[0] === 0x83) off = 1;
  else return undefined;
  for (let i = 3; i < ENVELOPE_HEAD.length; i++, off++) if (body[off] !== ENVELOPE_HEAD[i]) return undefined;
  const tag = body[off];
  let id: number;
  if (tag === undefined) return undefined;
  if (tag < 0x80) (id = tag), (off += 1);
  else if (tag === 0xcc && body.length > off + 1) (id = body[off + 1]!), (off += 2);
  else if (tag === 0xcd && body.length > off + 2) (id = body.readUInt16BE(off + 1)), (off += 3);
  else if (tag === 0xce && body.length > off + 4) (id = body.readUInt32BE(off + 1)), (off += 5);
  else return undefined;
  for (const b of ITEM_KEY) if (body[off++] !== b) return undefined;
  return off < body.length ? { id, offset: off } : undefined;
}

function encodeBody(body: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, HEADER_BYTES);
  return frame;
}

export class FrameTooLarge extends Error {
  constructor(readonly declared: number, readonly limit: number) {
    super(`frame declares ${declared} bytes, more than the limit of ${limit} bytes`);
  }
}

/**
 * Splits a byte stream into frame bodies. The declared length is checked as soon as the header
 * arrives, before anything is buffered for the body, so an absurd length costs nothing. Partial
 * frames are kept as a chunk list and joined once, so a large frame in many chunks is not
 * copied quadratically.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes needed (header + body) before the pending frame is complete; 0 while the header is incomplete. */
  private needed = 0;

  constructor(private readonly maxFrameBytes: number) {}

  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds a chunk; calls onFrame for each complete body, in order. onFrame returns false to stop
   * (the connection was closed). Throws FrameTooLarge when a header declares too many bytes.
   */
  push(chunk: Buffer, onFrame: (body: Buffer) => boolean | void, transient = false): void {
    let buf: Buffer;
    if (this.buffered === 0) {
      buf = chunk;
    } else {
      // A transient chunk (a read buffer the socket reuses) must be copied to be kept.
      this.chunks.push(transient ? Buffer.from(chunk) : chunk);
      this.buffered += chunk.length;
      if (this.buffered < (this.needed || HEADER_BYTES)) return;
      buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      this.chunks = [];
      this.buffered = 0;
      this.needed = 0;
    }
    let off = 0;
    while (buf.length - off >= HEADER_BYTES) {
      const len = buf.readUInt32BE(off);
      if (len > this.maxFrameBytes) throw new FrameTooLarge(len, this.maxFrameBytes);
      if (buf.length - off - HEADER_BYTES < len) {
        this.needed = HEADER_BYTES + len;
        break;
      }
      const body = buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len);
      off += HEADER_BYTES + len;
      if (onFrame(body) === false) return;
    }
    if (off < buf.length) {
      // Copy the tail so a small remainder does not pin a large chunk.
      const rest = buf.length - off > 4096 && !(transient && buf === chunk) ? buf.subarray(off) : Buffer.from(buf.subarray(off));
      this.chunks = [rest];
      this.buffered = rest.length;
    }
  }
}

/** A short, printable description of an unexpected value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "binary data";
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value).slice(0, 40)}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
