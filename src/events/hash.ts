// The hash chain: hash_n = SHA-256(hash_{n-1} ‖ position ‖ stream ‖ version ‖ type ‖ body).
// Variable-length fields are length-prefixed so no two different rows hash the same bytes.
import { createHash } from "node:crypto";

export const GENESIS_HASH = Buffer.alloc(32);

export interface ChainedRow {
  position: number;
  streamId: string;
  version: number;
  type: string;
  body: Uint8Array;
}

export function chainHash(prev: Uint8Array, row: ChainedRow): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeBigUInt64BE(BigInt(row.position), 0);
  fixed.writeBigUInt64BE(BigInt(row.version), 8);
  return createHash("sha256")
    .update(prev)
    .update(fixed.subarray(0, 8))
    .update(lengthPrefixed(row.streamId))
    .update(fixed.subarray(8))
    .update(lengthPrefixed(row.type))
    .update(row.body)
    .digest();
}

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, "utf8");
  const out = Buffer.alloc(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}
