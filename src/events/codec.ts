// Plain msgpack for stored events: no shared record structures, so any reader decodes any row
// on its own (docs/journal.md; shared structures mis-decode across readers and reconnects).
import { Packr, Unpackr } from "msgpackr";

const OPTIONS = { useRecords: false, moreTypes: false, int64AsType: "number", mapsAsObjects: true } as const;
// variableMapSize: a projection snapshot holds a map entry per deleted container, far past 65535.
const packr = new Packr({ ...OPTIONS, variableMapSize: true });

export const encode = (value: unknown): Buffer => packr.pack(value);
export const decode = <T = unknown>(bytes: Uint8Array): T => packr.unpack(bytes) as T;

// Bodies read as hex (the rebuild's path, see Journal.readAll) are decoded through one reused
// buffer: no Buffer per row, and no DataView, which msgpackr creates and caches on every new
// buffer it reads. copyBuffers: a binary value must not point into the reused buffer.
const scratchUnpackr = new Unpackr({ ...OPTIONS, copyBuffers: true });
let scratch = Buffer.allocUnsafe(64 * 1024);

function decodeHex<T = unknown>(hex: string): T {
  const length = hex.length >>> 1;
  if (length > scratch.length) scratch = Buffer.allocUnsafe(Math.max(length, scratch.length * 2));
  scratch.write(hex, 0, "hex");
  return scratchUnpackr.unpack(scratch, length) as T;
}

/** The envelope fields and payload that an event's `body` holds: the bytes the hash chain covers. */
export interface BodyFields {
  eventId: string;
  /** Milliseconds since the epoch. */
  time: number;
  /** The payload's schema version: inside the hashed bytes, so it cannot be changed unnoticed. */
  schemaVersion: number;
  data: unknown;
  commandId?: string;
  correlationId?: string;
  causationId?: string;
  actor?: { uid: number; gid: number; pid: number };
}

/**
 * The id of the `index`-th event a command appended. Derived, not random, so that a retry of
 * the command is found through the event_id index (migrations/002). Injective: the index is
 * digits up to the second ':', the rest is the command id; random ids never start with ':'.
 */
export const commandEventId = (commandId: string, index: number): string => `:${index}:${commandId}`;

/** The index i when `eventId` is exactly commandEventId(commandId, i), else undefined. */
function derivedIndex(eventId: string, commandId: string | undefined): number | undefined {
  if (commandId === undefined || eventId.charCodeAt(0) !== 58 /* ':' */) return undefined;
  const colon = eventId.indexOf(":", 1);
  if (colon < 2 || eventId.length - colon - 1 !== commandId.length || !eventId.endsWith(commandId)) return undefined;
  const digits = eventId.slice(1, colon);
  const index = Number(digits);
  return Number.isSafeInteger(index) && index >= 0 && String(index) === digits ? index : undefined;
}

/**
 * Stored as a msgpack array [eventId, time, schemaVersion, data, commandId, correlationId, causationId, [uid, gid, pid]]
 * with absent fields as nil and trailing nils dropped: smaller and faster to decode than a map.
 * The correlation id is omitted when it equals the command id, and an event id derived from
 * the command id is stored as its index alone (one byte instead of the id's ~17 or more).
 */
export function packBody(f: BodyFields): Buffer {
  const correlation = f.correlationId !== undefined && f.correlationId !== f.commandId ? f.correlationId : null;
  const eventId = derivedIndex(f.eventId, f.commandId) ?? f.eventId;
  const fields: unknown[] = [eventId, f.time, f.schemaVersion, f.data, f.commandId ?? null, correlation, f.causationId ?? null, f.actor ? [f.actor.uid, f.actor.gid, f.actor.pid] : null];
  while (fields.length > 4 && fields[fields.length - 1] === null) fields.pop();
  return encode(fields);
}

/**
 * The body with its payload replaced by `f(payload, schemaVersion)` and every other field as it
 * was stored (the same array, re-encoded): for a copy of an event that must not carry some of
 * its payload (src/fleet/redact.ts). Never for the journal: the chain covers the stored bytes.
 */
export function mapBodyData(bytes: Uint8Array, f: (data: unknown, schemaVersion: number) => unknown): Buffer {
  const b = decode<unknown[]>(bytes);
  if (!Array.isArray(b) || typeof b[2] !== "number") throw new Error("not an event body");
  const fields = [...b];
  fields[3] = f(b[3], b[2]);
  return encode(fields);
}

export function unpackBody(bytes: Uint8Array): BodyFields {
  const out = {} as BodyFields;
  out.schemaVersion = unpackBodyInto(bytes, out);
  return out;
}

/**
 * unpackBody's fields except the schema version, which it returns, set on `into` (an event
 * being built) instead of on an object of their own: one object per event read, not two.
 * `bytes` may be given as hex.
 */
export function unpackBodyInto(bytes: Uint8Array | string, into: Partial<BodyFields>): number {
  const b = typeof bytes === "string" ? decodeHex<unknown[]>(bytes) : decode<unknown[]>(bytes);
  if (!Array.isArray(b) || typeof b[1] !== "number" || typeof b[2] !== "number") throw new Error("not an event body");
  if (typeof b[0] === "string") into.eventId = b[0];
  else if (Number.isSafeInteger(b[0]) && (b[0] as number) >= 0 && typeof b[4] === "string") into.eventId = commandEventId(b[4], b[0] as number);
  else throw new Error("not an event body");
  into.time = b[1];
  into.data = b[3];
  if (b[4] != null) into.commandId = b[4] as string;
  if ((b[5] ?? b[4]) != null) into.correlationId = (b[5] ?? b[4]) as string;
  if (b[6] != null) into.causationId = b[6] as string;
  if (b[7] != null) {
    const [uid, gid, pid] = b[7] as number[];
    into.actor = { uid: uid!, gid: gid!, pid: pid! };
  }
  return b[2];
}
