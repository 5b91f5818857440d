// The journal's SQLite connection: opening the file with berth's pragmas, running the
// migrations, and turning SQLite's errors into typed ones. The read engine (journal-read.ts)
// and the writers (journal-write.ts) take the connection opened here; nothing outside the
// journal's own files sees it.
import Database from "better-sqlite3";
import { Kysely, Migrator, SqliteAdapter, SqliteDialect, type DialectAdapter } from "kysely";
import { migrations } from "../../migrations/index.js";
import { BerthError } from "../model/errors.js";

export type SyncMode = "full" | "normal";

export interface OpenOptions {
  /** FULL (default) survives power loss; NORMAL may lose the last commits on power loss, never on a crash. */
  sync?: SyncMode;
  /** Take exclusive ownership (default). Tests of the append path under contention turn it off. */
  exclusive?: boolean;
  readonly?: boolean;
}

/** Opens (and, unless read-only, migrates) the database file; closes it again on failure. */
export async function openDatabase(path: string, options: OpenOptions): Promise<Database.Database> {
  const readonly = options.readonly === true;
  const db = new Database(path, { readonly, fileMustExist: readonly });
  try {
    db.pragma("busy_timeout = 5000");
    if (!readonly) {
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${options.sync === "normal" ? "NORMAL" : "FULL"}`);
      await migrate(db);
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

async function migrate(db: Database.Database): Promise<void> {
  const kysely = new Kysely<unknown>({ dialect: new TransactionalSqliteDialect(db) });
  const { error } = await new Migrator({ db: kysely, provider: { getMigrations: async () => migrations } }).migrateToLatest();
  if (error) throw error;
}

/** SQLite errors become typed errors a person can act on. */
export function toJournalError(err: unknown, context: string): BerthError {
  if (err instanceof BerthError) return err;
  const code = (err as { code?: string }).code ?? "";
  const message = err instanceof Error ? err.message : String(err);
  if (code === "SQLITE_FULL") return new BerthError("internalError", `${context}: the disk is full (${message})`);
  if (code === "SQLITE_BUSY") return new BerthError("timeout", `${context}: the journal is busy (${message})`);
  if (code === "SQLITE_READONLY") return new BerthError("invalidState", `${context}: the journal is read-only (${message})`);
  if (code.startsWith("SQLITE_CONSTRAINT")) return new BerthError("exists", `${context}: ${message}`);
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") return new BerthError("invalidArgument", `${context}: not a berth journal (${message})`);
  return new BerthError("internalError", `${context}: ${message}`);
}

/** SQLite runs DDL transactionally, so each migration run is wrapped in a transaction (kysely's adapter says no). */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class TransactionalSqliteDialect extends SqliteDialect {
  constructor(database: Database.Database) {
    super({ database: database as never });
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalSqliteAdapter();
  }
}
