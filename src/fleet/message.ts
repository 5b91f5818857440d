// One journal row as one JetStream message, and back. The body is the stored bytes, untouched;
// the headers carry every other column, so a restore rebuilds the row exactly and the chain hash
// can be recomputed from the message alone (docs/fleet.md, "Message format"). The exception is a
// message shipped with --ship-redact-env: its header Berth-Redacted says the body is not the
// stored bytes (src/fleet/redact.ts).
import { headers, type MsgHdrs } from "@nats-io/nats-core";
import type { StoredRow } from "../events/journal.js";
import { BerthError } from "../model/errors.js";

export const H = {
  node: "Berth-Node",
  nodeId: "Berth-Node-Id",
  streamId: "Berth-Stream-Id",
  version: "Berth-Stream-Version",
  type: "Berth-Type",
  schemaVersion: "Berth-Schema-Version",
  position: "Berth-Position",
  hash: "Berth-Chain-Hash",
  eventId: "Berth-Event-Id",
  commandId: "Berth-Command-Id",
  time: "Berth-Time",
  actor: "Berth-Actor-Uid",
  redacted: "Berth-Redacted",
} as const;

/** The server deduplicates resends on this id within the stream's duplicate window. */
export const msgIdOf = (node: string, position: number) => `${node}:${position}`;

/** `redacted`: what the shipped body left out (`env`), when it is not the row's stored bytes. */
export function rowHeaders(row: StoredRow, node: string, nodeId: string, redacted?: string): MsgHdrs {
  const h = headers();
  h.set(H.node, node);
  h.set(H.nodeId, nodeId);
  h.set(H.streamId, row.stream_id);
  h.set(H.version, String(row.version));
  h.set(H.type, row.type);
  h.set(H.schemaVersion, String(row.schema_version));
  h.set(H.position, String(row.position));
  h.set(H.hash, row.hash.toString("hex"));
  h.set(H.eventId, row.event_id);
  if (row.command_id !== null) h.set(H.commandId, row.command_id);
  h.set(H.time, String(row.time));
  if (row.actor_uid !== null) h.set(H.actor, String(row.actor_uid));
  if (redacted !== undefined) h.set(H.redacted, redacted);
  return h;
}

export interface ShippedRow {
  row: StoredRow;
  nodeId: string;
  node: string;
  /** The stream sequence of the message. */
  seq: number;
  /** The Berth-Redacted header: `row.body` is not the stored bytes, and does not hash to `row.hash`. */
  redacted?: string;
}

/**
 * The row a message carries; a message without berth's headers is a typed error naming its
 * sequence. A consumer's message has `headers`, a message read by sequence (StoredMsg) `header`.
 */
export function rowOf(msg: { headers?: MsgHdrs; header?: MsgHdrs; data: Uint8Array; seq: number }): ShippedRow {
  const h = msg.headers ?? msg.header;
  const get = (name: string, optional = false): string | undefined => {
    const v = h?.get(name) ?? "";
    if (v === "" && !optional) throw new BerthError("invalidArgument", `stream message ${msg.seq} is not a berth event: header ${name} is missing`);
    return v === "" ? undefined : v;
  };
  const int = (name: string) => {
    const n = Number(get(name));
    if (!Number.isSafeInteger(n)) throw new BerthError("invalidArgument", `stream message ${msg.seq}: header ${name} is not an integer`);
    return n;
  };
  const actor = get(H.actor, true);
  const row: StoredRow = {
    position: int(H.position),
    event_id: get(H.eventId)!,
    stream_id: get(H.streamId)!,
    version: int(H.version),
    type: get(H.type)!,
    schema_version: int(H.schemaVersion),
    time: int(H.time),
    command_id: get(H.commandId, true) ?? null,
    actor_uid: actor === undefined ? null : Number(actor),
    body: Buffer.from(msg.data),
    hash: Buffer.from(get(H.hash)!, "hex"),
  };
  const redacted = get(H.redacted, true);
  return { row, nodeId: get(H.nodeId)!, node: get(H.node)!, seq: msg.seq, ...(redacted === undefined ? {} : { redacted }) };
}
