// A journal knows which node it is: a UUID made once, with the file (or by this migration for a
// journal from before it). The fleet shipper claims its node name with it, so a second journal
// under the same name (a cloned VM, an older copy put back) is refused instead of forking the
// node's history in the stream (docs/fleet.md). The shipper's checkpoint lives in `checkpoints`.
import { randomUUID } from "node:crypto";
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE node_identity (id INTEGER PRIMARY KEY CHECK (id = 1), uuid TEXT NOT NULL)`.execute(db);
  await sql`INSERT INTO node_identity (id, uuid) VALUES (1, ${randomUUID()})`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE node_identity`.execute(db);
}
