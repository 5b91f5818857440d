// Two kinds of file under <root>/containers/<id>/exits/:
// - exit records, one small JSON file per exit, written atomically by the Node runtime services
//   berth ran before conmon. A daemon reads them once more when it stops such a container at
//   upgrade (src/daemon/legacy-service.ts); conmon's own exit files replaced them (docs/vm.md).
// - the daemon's ack of each exit it journaled: the position and chain hash of its event, a
//   witness outside the journal that shows a lost tail (src/events/witness.ts).
// This file is the exit's file edge: an Exit goes in and comes out (src/model/exit.ts), and
// only the record on disk spells its time as ISO 8601 text.
import fs from "node:fs";
import { join } from "node:path";
import { parseExit, type Exit } from "../model/exit.js";
import { containerPaths } from "./paths.js";

/**
 * An exit record file, in the format it has always had on disk: the time as ISO 8601 text with
 * milliseconds, no signal as null, and ackedAt once the daemon has acknowledged journaling it.
 */
type ExitRecordFile = Omit<Exit, "signal" | "exitedAt"> & { signal: string | null; exitedAt: string; ackedAt?: string };

/** What the daemon's ack file holds: which exit, and the position and chain hash (hex) of the ProcessExited event that journaled it. */
export type ExitAck = Pick<Exit, "processId" | "pid" | "exitedAt"> & { position: number; hash: string };

type ExitKey = Pick<Exit, "processId" | "pid" | "exitedAt">;

const baseName = (rec: ExitKey) => `${rec.exitedAt}-${rec.pid}-${rec.processId}`;
const fileName = (rec: ExitKey) => `${baseName(rec)}.json`;

const toFile = (exit: Exit): ExitRecordFile => ({
  processId: exit.processId,
  pid: exit.pid,
  exitCode: exit.exitCode,
  signal: exit.signal ?? null,
  exitedAt: new Date(exit.exitedAt).toISOString(),
  oomKilled: exit.oomKilled,
});

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

export function writeExitRecord(exitsDir: string, exit: Exit): void {
  fs.mkdirSync(exitsDir, { recursive: true });
  writeAtomically(join(exitsDir, fileName(exit)), `${JSON.stringify(toFile(exit))}\n`);
}

/** The record files as they are on disk (for the ack, which rewrites them). */
function readFiles(exitsDir: string): ExitRecordFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(exitsDir);
  } catch {
    // No exits directory: no exit was recorded.
    return [];
  }
  const out: ExitRecordFile[] = [];
  for (const name of names) {
    if (!name.endsWith(".json")) continue; // temp files of an interrupted write
    try {
      out.push(JSON.parse(fs.readFileSync(join(exitsDir, name), "utf8")) as ExitRecordFile);
    } catch {
      /* a record is renamed into place whole, so an unreadable file is not one of ours */
    }
  }
  return out;
}

function readDir(exitsDir: string): Exit[] {
  const exits = readFiles(exitsDir).map(parseExit).filter((e): e is Exit => e !== undefined);
  return exits.sort((a, b) => a.exitedAt - b.exitedAt || a.pid - b.pid);
}

/** Every exit recorded for a container, oldest first. Works whether or not its service is alive. */
export function readExitRecords(root: string, id: string): Exit[] {
  return readDir(containerPaths(root, id).exits);
}

export function readExitRecordsIn(exitsDir: string): Exit[] {
  return readDir(exitsDir);
}

/** Marks a record acknowledged (rewritten atomically); returns false when there is no such record. */
export function ackExitRecord(exitsDir: string, processId: string, pid: number, atMs = Date.now()): boolean {
  let found = false;
  for (const rec of readFiles(exitsDir)) {
    if (rec.processId !== processId || rec.pid !== pid) continue;
    found = true;
    const name = fileName({ ...rec, exitedAt: Date.parse(rec.exitedAt) });
    if (!rec.ackedAt) writeAtomically(join(exitsDir, name), `${JSON.stringify({ ...rec, ackedAt: new Date(atMs).toISOString() })}\n`);
  }
  return found;
}

/**
 * Writes the daemon's ack of a journaled exit (atomically, fsynced). The exits directory is
 * made in the container's directory, never the container's directory itself: a container
 * removed since has nothing to ack (ENOENT).
 */
export function writeExitAck(exitsDir: string, ack: ExitAck): void {
  if (!fs.existsSync(exitsDir)) fs.mkdirSync(exitsDir);
  writeAtomically(join(exitsDir, `${baseName(ack)}${ACK_SUFFIX}`), `${JSON.stringify(ack)}\n`);
}

export function hasExitAck(exitsDir: string, rec: ExitKey): boolean {
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
