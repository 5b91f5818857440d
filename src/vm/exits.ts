// Exit records: one small JSON file per exit under <root>/containers/<id>/exits/, written
// atomically (temp file, fsync, rename) before the exit is reported to anyone. They are how an
// exit survives a daemon that was down, and a runtime service that died after recording it.
import fs from "node:fs";
import { join } from "node:path";
import { isoTime } from "../iso-time.js";
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

function fileName(rec: Pick<ExitRecord, "processId" | "pid" | "exitedAt">): string {
  return `${Date.parse(rec.exitedAt)}-${rec.pid}-${rec.processId}.json`;
}

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
