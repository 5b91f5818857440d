// The journal's tables as kysely sees them (typed reads and migrations).
import type { Generated } from "kysely";

export interface EventsTable {
  position: Generated<number>;
  event_id: string;
  stream_id: string;
  version: number;
  type: string;
  schema_version: number;
  /** Milliseconds since the epoch; a copy of the body's time, for range queries. */
  time: number;
  command_id: string | null;
  actor_uid: number | null;
  /** Plain msgpack of the envelope and payload: the bytes the hash chain covers. */
  body: Buffer;
  hash: Buffer;
}

export interface CheckpointsTable {
  name: string;
  position: number;
}

export interface SnapshotsTable {
  name: string;
  position: number;
  body: Buffer;
  /** The chain hash at `position` (null in rows from before migrations/003). */
  hash: Buffer | null;
  /** SHA-256 of name, position, hash and body (snapshot.ts). */
  digest: Buffer | null;
}

export interface NodeIdentityTable {
  /** Always 1: one row. */
  id: number;
  uuid: string;
}

export interface JournalSchema {
  events: EventsTable;
  checkpoints: CheckpointsTable;
  snapshots: SnapshotsTable;
  node_identity: NodeIdentityTable;
}
