// TEST ONLY: opens a journal's SQLite file with better-sqlite3, beside the open Journal, to
// tamper with it on purpose (the tests of verify, snapshots and lost tails) or to write what
// no berth version writes any more (the v1 fixture). berth itself never does this: outside
// the journal's own files, code reaches the file only through Journal's named methods
// (test/journal-boundary.test.ts).
import Database from "better-sqlite3";

/** Runs `fn` on a second connection to the file at `path`, then closes it. */
export function onSqliteFile<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
