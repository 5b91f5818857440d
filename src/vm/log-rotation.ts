// Log rotation with docker's json-file semantics (max-size, max-file) on conmon's k8s-file logs.
// conmon 2.1.6's own --log-size-max truncates the file in place, losing what was there, so the
// daemon rotates instead: once a process's log reaches max-size it renames <P>.log to <P>.log.1
// (shifting .1 to .2 and so on, dropping what is past max-file) and asks conmon, through its
// control fifo, to reopen the path. conmon writes into the renamed file until it has reopened,
// so nothing is lost; the readers (logs.ts) read the chain oldest first.
import fs from "node:fs";
import { writeControl } from "./conmon.js";
import { rotatedPaths } from "./logs.js";

/** The k8s-file size and file count a process's log is kept within. */
export interface RotationLimits {
  maxSizeBytes: number;
  /** Files kept, the current one included (docker's max-file; 1: the current file only). */
  maxFiles: number;
}

/**
 * Rotates `path` when it has reached the limit, and asks conmon to reopen it through
 * `control` (its ctl fifo: "2 0 0" reopens the log). True when it rotated.
 */
export function rotateIfFull(path: string, control: string, limits: RotationLimits): boolean {
  const size = fs.statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  if (size < limits.maxSizeBytes) return false;
  // Oldest first, so no rename lands on a file still to be moved.
  for (const old of rotatedPaths(path)) {
    const n = Number(old.slice(path.length + 1));
    if (n + 1 >= limits.maxFiles) fs.rmSync(old, { force: true });
    else fs.renameSync(old, `${path}.${n + 1}`);
  }
  fs.renameSync(path, `${path}.1`);
  writeControl(control, "2 0 0");
  // With one file kept, the old one goes once conmon writes to the new: a reader holding it keeps its fd.
  if (limits.maxFiles === 1) fs.rmSync(`${path}.1`, { force: true });
  return true;
}
