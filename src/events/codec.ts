// Plain msgpack for stored events: no shared record structures, so any reader decodes any row
// on its own (design.md §4: shared structures mis-decode across readers and reconnects).
import { Packr } from "msgpackr";

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: "number", mapsAsObjects: true });

export const encode = (value: unknown): Buffer => packr.pack(value);
export const decode = <T = unknown>(bytes: Uint8Array): T => packr.unpack(bytes) as T;

/** The envelope and payload as stored in an event's `body` (short keys keep rows small). */
export interface StoredBody {
  i: string; // event id
  t: number; // time, ms since the epoch
  c?: string; // command id
  r?: string; // correlation id, when it differs from the command id
  k?: string; // causation id
  a?: [number, number, number]; // actor uid, gid, pid
  d: unknown; // payload
}
