// Snapshot integrity. A snapshot row records the global position and the chain hash it was
// taken at, and a digest of the row. At load a snapshot is used only if its digest matches its
// bytes, its position is in the journal and its hash is the chain's hash there, and its body
// decodes; otherwise the caller replays the journal in full. The digest is plain SHA-256, so a
// forger who can write the file can recompute it: what binds a snapshot to the journal's own
// history is the chain hash, and what catches a forged body is re-folding the journal
// (`berth journal verify`, src/daemon/snapshot-check.ts).
import { hash } from "node:crypto";
import { decode } from "./codec.js";

export interface SnapshotRow {
  name: string;
  position: number;
  body: Buffer;
  /** The chain hash at `position`; null in rows written before migrations/003. */
  hash: Buffer | null;
  digest: Buffer | null;
}

export type OpenedSnapshot<T> = { ok: true; position: number; hash: string; state: T } | { ok: false; reason: string };

/** SHA-256 of u32be(len) name ‖ u64be(position) ‖ hash ‖ body: every field of the row. */
export function snapshotDigest(name: string, position: number, chainHash: Uint8Array, body: Uint8Array): Buffer {
  const nameBytes = Buffer.from(name);
  const buf = Buffer.allocUnsafe(4 + nameBytes.length + 8 + chainHash.length + body.length);
  buf.writeUInt32BE(nameBytes.length, 0);
  nameBytes.copy(buf, 4);
  let at = 4 + nameBytes.length;
  buf.writeBigUInt64BE(BigInt(position), at);
  at += 8;
  buf.set(chainHash, at);
  buf.set(body, at + chainHash.length);
  return hash("sha256", buf, "buffer");
}

/**
 * Checks a stored snapshot against the chain: `chainHashAt` is the journal's hash at the row's
 * position (undefined when the journal has no such position), `head` its last position.
 * Cheap: one digest and one comparison, no fold.
 */
export function openSnapshot<T>(row: SnapshotRow, chainHashAt: Uint8Array | undefined, head: number): OpenedSnapshot<T> {
  const at = `snapshot ${JSON.stringify(row.name)} (position ${row.position})`;
  if (!Buffer.isBuffer(row.body)) return { ok: false, reason: `${at}: its body is not a blob` };
  if (!row.hash || !row.digest) return { ok: false, reason: `${at} records no chain hash or digest (written before migration 003)` };
  if (!snapshotDigest(row.name, row.position, row.hash, row.body).equals(row.digest)) return { ok: false, reason: `${at}: its digest does not match its bytes` };
  if (row.position > head) return { ok: false, reason: `${at} is past the journal's head position ${head}` };
  if (!chainHashAt || !Buffer.from(chainHashAt).equals(row.hash)) return { ok: false, reason: `${at}: its chain hash is not the journal's hash at that position` };
  try {
    return { ok: true, position: row.position, hash: row.hash.toString("hex"), state: decode<T>(row.body) };
  } catch (err) {
    return { ok: false, reason: `${at}: its body does not decode (${(err as Error).message})` };
  }
}
