// The journal's first schema. Positions use AUTOINCREMENT so a deleted tail is never reused.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    stream_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    time INTEGER NOT NULL,
    command_id TEXT,
    actor_uid INTEGER,
    body BLOB NOT NULL,
    hash BLOB NOT NULL,
    UNIQUE (stream_id, version)
  )`.execute(db);
  // Only the indexes that appends need: every index is another page written per commit.
  // Audit filters (type, time, actor) scan by position, which is fast enough for audits.
  await sql`CREATE INDEX events_command ON events (command_id) WHERE command_id IS NOT NULL`.execute(db);
  await sql`CREATE TABLE checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL)`.execute(db);
  await sql`CREATE TABLE snapshots (name TEXT PRIMARY KEY, position INTEGER NOT NULL, body BLOB NOT NULL)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["snapshots", "checkpoints", "events"]) {
    await sql.raw(`DROP TABLE ${table}`).execute(db);
  }
}
