// Exit records: one small JSON file per exit under <root>/containers/<id>/exits/, written
// atomically (temp file, fsync, rename) before the exit is reported to anyone. They are how an
// exit survives a daemon that was down, and a runtime service that died after recording it.
// Beside each record the daemon writes its own ack file once the exit is journaled: the
// position and chain hash of the event that acknowledged it, a witness outside the journal
// that shows a lost tail (src/events/witness.ts). The ack is berth's, not the runtime
// service's, so it stays when another keeper's exit files replace these records.
import fs from "node:fs";
import { join } from "node:path";
import { isoTime } from "./iso-time.js";
import { containerPaths } from "./paths.js";

export interface ExitRecord {
  processId: string;
  /** Host pid of the process (with the exit time, what makes a record unique). */
  pid: number;
  exitCode: number;
  signal: string | null;
  /** ISO 8601 with milliseconds. */
  exitedAt: string;
  oomKilled: boolean;
  /** Set once the daemon has acknowledged journaling the exit. */
  ackedAt?: string;
}

/** What the daemon's ack file holds. */
export interface ExitAck {
  processId: string;
  pid: number;
  /** Milliseconds since the epoch, as in the ProcessExited event. */
  exitedAt: number;
  /** Position and chain hash (hex) of the ProcessExited event that journaled the exit. */
  position: number;
  hash: string;
}

const baseName = (rec: { processId: string; pid: number; exitedAt: number }) => `${rec.exitedAt}-${rec.pid}-${rec.processId}`;

function fileName(rec: Pick<ExitRecord, "processId" | "pid" | "exitedAt">): string {
  return `${baseName({ ...rec, exitedAt: Date.parse(rec.exitedAt) })}.json`;
}

const ACK_SUFFIX = ".ack";

function writeAtomically(file: string, data: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, "w", 0o644);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export function writeExitRecord(exitsDir: string, rec: ExitRecord): void {
  fs.mkdirSync(exitsDir, { recursive: true });
  writeAtomically(join(exitsDir, fileName(rec)), `${JSON.stringify(rec)}\n`);
}

function readDir(exitsDir: string): ExitRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(exitsDir);
  } catch {
    // No exits directory: no exit was recorded.
    return [];
  }
  const out: ExitRecord[] = [];
  for (const name of names) {
    if (!name.endsWith(".json")) continue; // temp files of an interrupted write
    try {
      out.push(JSON.parse(fs.readFileSync(join(exitsDir, name), "utf8")) as ExitRecord);
    } catch {
      /* a record is renamed into place whole, so an unreadable file is not one of ours */
    }
  }
  return out.sort((a, b) => Date.parse(a.exitedAt) - Date.parse(b.exitedAt) || a.pid - b.pid);
}

/** Every exit recorded for a container, oldest first. Works whether or not its service is alive. */
export function readExitRecords(root: string, id: string): ExitRecord[] {
  return readDir(containerPaths(root, id).exits);
}

export function readExitRecordsIn(exitsDir: string): ExitRecord[] {
  return readDir(exitsDir);
}

/** Marks a record acknowledged (rewritten atomically); returns false when there is no such record. */
export function ackExitRecord(exitsDir: string, processId: string, pid: number, atMs = Date.now()): boolean {
  let found = false;
  for (const rec of readDir(exitsDir)) {
    if (rec.processId !== processId || rec.pid !== pid) continue;
    found = true;
    if (!rec.ackedAt) writeAtomically(join(exitsDir, fileName(rec)), `${JSON.stringify({ ...rec, ackedAt: isoTime(atMs) })}\n`);
  }
  return found;
}

/**
 * Writes the daemon's ack of a journaled exit beside its record (atomically, fsynced). The
 * directory is not created: no record there (a container removed since) means nothing to ack.
 */
export function writeExitAck(exitsDir: string, ack: ExitAck): void {
  writeAtomically(join(exitsDir, `${baseName(ack)}${ACK_SUFFIX}`), `${JSON.stringify(ack)}\n`);
}

export function hasExitAck(exitsDir: string, rec: { processId: string; pid: number; exitedAt: number }): boolean {
  return fs.existsSync(join(exitsDir, `${baseName(rec)}${ACK_SUFFIX}`));
}

/** Every ack under the root's container directories, with its file (for messages). */
export function readExitAcks(root: string): (ExitAck & { file: string })[] {
  const containers = join(root, "containers");
  let ids: string[];
  try {
    ids = fs.readdirSync(containers);
  } catch {
    // No containers directory: nothing was ever acknowledged.
    return [];
  }
  const out: (ExitAck & { file: string })[] = [];
  for (const id of ids) {
    const dir = containerPaths(root, id).exits;
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      // A container without an exits directory has no acks.
      continue;
    }
    for (const name of names) {
      if (!name.endsWith(ACK_SUFFIX)) continue;
      const file = join(dir, name);
      try {
        const ack = JSON.parse(fs.readFileSync(file, "utf8")) as ExitAck;
        if (Number.isSafeInteger(ack.position) && ack.position > 0) out.push({ ...ack, file });
      } catch {
        /* renamed into place whole: an unreadable file is not one of ours */
      }
    }
  }
  return out;
}
