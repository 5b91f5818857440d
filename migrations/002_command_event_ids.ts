// Idempotency through UNIQUE(event_id). From here on, the events of a command get ids derived
// from its command id (":0:<commandId>", ":1:<commandId>", …), so a retry is found through the
// event_id index every row already pays for, and the command_id index (one more page written
// per commit) only has to cover rows whose ids are not derived: rows written before this
// migration, and callers that supply their own event ids. Random ids are base64url, so they
// never start with ':' and the two kinds cannot collide.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX events_command`.execute(db);
  await sql`CREATE INDEX events_command_other_ids ON events (command_id) WHERE command_id IS NOT NULL AND substr(event_id, 1, 1) <> ':'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX events_command_other_ids`.execute(db);
  await sql`CREATE INDEX events_command ON events (command_id) WHERE command_id IS NOT NULL`.execute(db);
}
