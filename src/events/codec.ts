// Plain msgpack for stored events: no shared record structures, so any reader decodes any row
// on its own (design.md §4: shared structures mis-decode across readers and reconnects).
import { Packr } from "msgpackr";

// variableMapSize: a projection snapshot holds a map entry per deleted container, far past 65535.
const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: "number", mapsAsObjects: true, variableMapSize: true });

export const encode = (value: unknown): Buffer => packr.pack(value);
export const decode = <T = unknown>(bytes: Uint8Array): T => packr.unpack(bytes) as T;

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
 * Stored as a msgpack array [eventId, time, schemaVersion, data, commandId, correlationId, causationId, [uid, gid, pid]]
 * with absent fields as nil and trailing nils dropped: smaller and faster to decode than a map.
 * The correlation id is omitted when it equals the command id.
 */
export function packBody(f: BodyFields): Buffer {
  const correlation = f.correlationId !== undefined && f.correlationId !== f.commandId ? f.correlationId : null;
  const fields: unknown[] = [f.eventId, f.time, f.schemaVersion, f.data, f.commandId ?? null, correlation, f.causationId ?? null, f.actor ? [f.actor.uid, f.actor.gid, f.actor.pid] : null];
  while (fields.length > 4 && fields[fields.length - 1] === null) fields.pop();
  return encode(fields);
}

export function unpackBody(bytes: Uint8Array): BodyFields {
  const b = decode<unknown[]>(bytes);
  if (!Array.isArray(b) || typeof b[0] !== "string" || typeof b[1] !== "number" || typeof b[2] !== "number") throw new Error("not an event body");
  const out: BodyFields = { eventId: b[0], time: b[1], schemaVersion: b[2], data: b[3] };
  if (b[4] != null) out.commandId = b[4] as string;
  if ((b[5] ?? b[4]) != null) out.correlationId = (b[5] ?? b[4]) as string;
  if (b[6] != null) out.causationId = b[6] as string;
  if (b[7] != null) {
    const [uid, gid, pid] = b[7] as number[];
    out.actor = { uid: uid!, gid: gid!, pid: pid! };
  }
  return out;
}
