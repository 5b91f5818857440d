// Watching one process kept by conmon: its exit file tells how it ended; conmon's death without
// one means nobody saw it end. fs.watch on the exit directory is the quick path; a poll every
// POLL_MS is the safety net for a missed event and the supervision of conmon itself, which has
// no exit file to watch when it is killed.
import fs from "node:fs";
import { monitorAlive, readRecordedExit, type ProcessFiles, type RecordedExit } from "./conmon.js";
import type { MonitorIdentity } from "./driver.js";

/** How often conmon's life and the exit file are checked besides fs.watch (a death is seen within 2 s). */
export const POLL_MS = 500;

export interface ProcessWatch {
  exited: Promise<RecordedExit>;
  /** Resolves with why, when conmon died without writing the exit file. */
  lost: Promise<string>;
  close(): void;
}

export function watchProcess(files: ProcessFiles & { exitFile: string }, monitor: MonitorIdentity, processId: string): ProcessWatch {
  let resolveExit!: (e: RecordedExit) => void;
  let resolveLost!: (why: string) => void;
  const exited = new Promise<RecordedExit>((r) => (resolveExit = r));
  const lost = new Promise<string>((r) => (resolveLost = r));
  let done = false;
  let watcher: fs.FSWatcher | undefined;
  const close = () => {
    done = true;
    clearInterval(timer);
    watcher?.close();
  };
  const check = () => {
    if (done) return;
    const exit = readRecordedExit(files);
    if (exit) {
      close();
      return resolveExit(exit);
    }
    if (monitorAlive(monitor)) return;
    // conmon writes the file before it exits: read once more, in case it did so just now.
    const late = readRecordedExit(files);
    close();
    if (late) resolveExit(late);
    else resolveLost(`conmon (pid ${monitor.pid}) of process ${processId} died without recording its exit`);
  };
  const timer = setInterval(check, POLL_MS);
  try {
    watcher = fs.watch(files.exitDir, () => check());
    watcher.on("error", () => {}); // the directory went (teardown): the poll decides
  } catch {
    // No directory to watch (removed meanwhile): the poll decides.
  }
  check();
  return { exited, lost, close };
}
