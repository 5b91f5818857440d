// Subjects of the fleet stream: berth.<node>.<kind>.<id>. A subject token cannot hold `.`, `*`,
// `>` or whitespace, and tokens starting with `_` are NATS's own, so every token goes through one
// rule (docs/fleet.md, "Subjects"): the bytes of its UTF-8 form outside [A-Za-z0-9_-] become `=`
// and two upper-case hex digits, and so does a leading `_`. `=` is legal both in subjects and in
// KV keys, so the same escaped name is the node's key in the claims bucket.
import { CONTAINER_PREFIX, DAEMON_STREAM } from "../events/catalogue.js";

export const SUBJECT_ROOT = "berth";
/** The one JetStream stream every node ships to, and the KV bucket holding the node claims. */
export const STREAM_NAME = "BERTH";
export const CLAIMS_BUCKET = "berth-nodes";

const PLAIN = /[A-Za-z0-9_-]/;

export function escapeToken(value: string): string {
  if (value.length === 0) return "=";
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && PLAIN.test(ch) && !(out.length === 0 && ch === "_") ? ch : `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function unescapeToken(token: string): string {
  if (token === "=") return "";
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === "=") {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The kind and id of a journal stream: container-<id>, the daemon's own, anything else "other". */
export function kindOf(streamId: string): { kind: "container" | "daemon" | "image" | "network" | "other"; id: string } {
  if (streamId.startsWith(CONTAINER_PREFIX)) return { kind: "container", id: streamId.slice(CONTAINER_PREFIX.length) };
  if (streamId === DAEMON_STREAM) return { kind: "daemon", id: DAEMON_STREAM };
  for (const kind of ["image", "network"] as const) if (streamId.startsWith(`${kind}-`)) return { kind, id: streamId.slice(kind.length + 1) };
  return { kind: "other", id: streamId };
}

export function subjectOf(node: string, streamId: string): string {
  const { kind, id } = kindOf(streamId);
  return `${SUBJECT_ROOT}.${escapeToken(node)}.${kind}.${escapeToken(id)}`;
}

/** Every subject of one node. */
export const nodeFilter = (node: string) => `${SUBJECT_ROOT}.${escapeToken(node)}.>`;
