// Snapshots say where in the chain they were taken: the chain hash at their position binds a
// snapshot to the journal's own history, and a digest of the row (name, position, hash, body)
// catches a body that was changed or cut without recomputing it. Rows from before this
// migration have neither and are discarded at load (the journal is replayed instead).
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE snapshots ADD COLUMN hash BLOB`.execute(db);
  await sql`ALTER TABLE snapshots ADD COLUMN digest BLOB`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE snapshots DROP COLUMN digest`.execute(db);
  await sql`ALTER TABLE snapshots DROP COLUMN hash`.execute(db);
}
