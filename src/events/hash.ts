// The hash chain: hash_n = SHA-256(hash_{n-1} ‖ position ‖ stream ‖ version ‖ type ‖ body).
// Variable-length fields are length-prefixed so no two different rows hash the same bytes.
import { hash } from "node:crypto";

export const GENESIS_HASH = Buffer.alloc(32);

export interface ChainedRow {
  position: number;
  streamId: string;
  version: number;
  type: string;
  body: Uint8Array;
}

const TWO_32 = 2 ** 32;

/** Writes a non-negative safe integer as a big-endian u64 (no BigInt: this runs once per append). */
function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO_32), at);
  buf.writeUInt32BE(value % TWO_32, at + 4);
}

export function chainHash(prev: Uint8Array, row: ChainedRow): Buffer {
  // The whole preimage in one buffer and one one-shot digest: cheaper than streaming six
  // small updates through a Hash object, and it runs on every append, verify and import.
  const streamLength = Buffer.byteLength(row.streamId);
  const typeLength = Buffer.byteLength(row.type);
  const buf = Buffer.allocUnsafe(prev.length + 8 + 4 + streamLength + 8 + 4 + typeLength + row.body.length);
  buf.set(prev, 0);
  let at = prev.length;
  writeU64(buf, row.position, at);
  buf.writeUInt32BE(streamLength, at + 8);
  at += 12 + buf.write(row.streamId, at + 12);
  writeU64(buf, row.version, at);
  buf.writeUInt32BE(typeLength, at + 8);
  at += 12 + buf.write(row.type, at + 12);
  buf.set(row.body, at);
  return hash("sha256", buf, "buffer");
}
