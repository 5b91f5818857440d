// Reads a few short string fields of a msgpack map without decoding the rest: a relay that
// passes a stream's items on as bytes (ctx.emitRaw) still has to know which stream and process a
// log entry belongs to, and decoding its 16 KiB line into a string to learn that is the cost the
// relay exists to avoid. Anything this does not recognise is decoded in full instead.
import { unpack } from "msgpackr";

/** The byte length of the msgpack value at `at` when it is a scalar (not a map or array), else undefined. */
function scalarLength(b: Buffer, at: number): number | undefined {
  const t = b[at];
  if (t === undefined) return undefined;
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return 1; // fixint, nil, booleans
  if (t >= 0xa0 && t <= 0xbf) return 1 + (t & 0x1f); // fixstr
  switch (t) {
    case 0xcc: case 0xd0: return 2;
    case 0xcd: case 0xd1: return 3;
    case 0xca: case 0xce: case 0xd2: return 5;
    case 0xcb: case 0xcf: case 0xd3: return 9;
    case 0xd9: case 0xc4: return at + 1 < b.length ? 2 + b[at + 1]! : undefined;
    case 0xda: case 0xc5: return at + 2 < b.length ? 3 + b.readUInt16BE(at + 1) : undefined;
    case 0xdb: case 0xc6: return at + 4 < b.length ? 5 + b.readUInt32BE(at + 1) : undefined;
    default: return undefined;
  }
}

/** The string at `at`, when it is a fixstr or str8 (short strings are all this reads). */
function shortString(b: Buffer, at: number): string | undefined {
  const t = b[at];
  if (t !== undefined && t >= 0xa0 && t <= 0xbf) return b.toString("utf8", at + 1, at + 1 + (t & 0x1f));
  if (t === 0xd9 && at + 1 < b.length) return b.toString("utf8", at + 2, at + 2 + b[at + 1]!);
  return undefined;
}

/**
 * The string values of `keys` in the msgpack map `item` (a key that is absent, or whose value is
 * not a string, is left out). Reads the map's keys and skips its values; a map holding anything
 * but scalars, or a long key, is decoded in full.
 */
export function peekStrings<K extends string>(item: Buffer, keys: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  const h = item[0];
  let count: number | undefined;
  let at = 1;
  if (h !== undefined && h >= 0x80 && h <= 0x8f) count = h & 0x0f;
  else if (h === 0xde && item.length >= 3) [count, at] = [item.readUInt16BE(1), 3];
  for (let i = 0; count !== undefined && i < count; i++) {
    const key = shortString(item, at);
    const keyLength = scalarLength(item, at);
    const valueAt = at + (keyLength ?? 0);
    const valueLength = key === undefined ? undefined : scalarLength(item, valueAt);
    if (keyLength === undefined || valueLength === undefined || valueAt + valueLength > item.length) return decoded(item, keys);
    if ((keys as readonly string[]).includes(key!)) {
      const value = shortString(item, valueAt);
      if (value !== undefined) out[key as K] = value;
    }
    at = valueAt + valueLength;
  }
  return count === undefined ? decoded(item, keys) : out;
}

function decoded<K extends string>(item: Buffer, keys: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  let value: unknown;
  try {
    value = unpack(item);
  } catch {
    return out; // not msgpack: nothing to report, and the caller's peer decides what that means
  }
  if (value === null || typeof value !== "object") return out;
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (typeof v === "string") out[k] = v;
  }
  return out;
}
