// Exclusive ownership of a journal. The lock is an EXCLUSIVE SQLite lock (an fcntl lock held by
// the kernel) on a sidecar file: it dies with its process, so a crashed owner never leaves a
// stale lock behind, and a second owner is refused at once instead of waiting.
import Database from "better-sqlite3";
import { readFileSync, writeFileSync } from "node:fs";
import { BerthError } from "../model/errors.js";

export interface JournalLock {
  release(): void;
}

export function acquireJournalLock(journalPath: string): JournalLock {
  const lockPath = `${journalPath}.lock`;
  const ownerPath = `${journalPath}.owner`;
  const db = new Database(lockPath);
  try {
    db.pragma("busy_timeout = 0");
    db.pragma("journal_mode = DELETE");
    db.pragma("locking_mode = EXCLUSIVE");
    // The write takes the EXCLUSIVE lock; locking_mode=EXCLUSIVE keeps it until close.
    db.exec("BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS owner (pid INTEGER); DELETE FROM owner; INSERT INTO owner VALUES (" + process.pid + "); COMMIT");
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === "SQLITE_BUSY") {
      let owner = "another process";
      try {
        owner = `pid ${readFileSync(ownerPath, "utf8").trim()}`;
      } catch {
        // The owner file is a courtesy for the message: without it the message says "another process".
      }
      throw new BerthError("exists", `journal ${journalPath} is already open for writing by ${owner}; stop that daemon or use another --root`);
    }
    throw err;
  }
  writeFileSync(ownerPath, `${process.pid}\n`);
  return { release: () => db.close() };
}
