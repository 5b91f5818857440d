// Container logs: stdout and stderr go to separate append-only files, one JSON object per line:
//   {"t":1700000000123,"s":"stdout","p":"web","line":"hello"}
// t = ms since the epoch when the service read the line, s = stream, p = processId.
// Files are opened for append and never truncated, so a restart keeps earlier output.
import fs from "node:fs";
import type { OutputStream } from "./driver.js";
import type { ContainerPaths } from "./paths.js";

export interface LogEntry {
  t: number;
  s: OutputStream;
  p: string;
  line: string;
}

export interface LogQuery {
  since?: number;
  tail?: number;
  stdout?: boolean;
  stderr?: boolean;
}

// A line longer than this is split: the service must not buffer without bound for a process
// that writes megabytes without a newline.
const MAX_LINE_BYTES = 16 * 1024;

export class LogWriter {
  private readonly fds: Record<OutputStream, number>;
  private readonly partial = new Map<string, Buffer>();
  private readonly listeners = new Set<(e: LogEntry) => void>();

  constructor(paths: Pick<ContainerPaths, "logs" | "stdoutLog" | "stderrLog">) {
    fs.mkdirSync(paths.logs, { recursive: true });
    this.fds = { stdout: fs.openSync(paths.stdoutLog, "a"), stderr: fs.openSync(paths.stderrLog, "a") };
  }

  /** Live entries, for `logs --follow`. Registered and read in one tick, so nothing falls between. */
  subscribe(fn: (e: LogEntry) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  write(processId: string, stream: OutputStream, chunk: Buffer): void {
    const key = `${processId}\0${stream}`;
    let buf = this.partial.has(key) ? Buffer.concat([this.partial.get(key)!, chunk]) : chunk;
    let nl: number;
    while ((nl = buf.indexOf(10)) !== -1 || buf.length > MAX_LINE_BYTES) {
      const end = nl === -1 || nl > MAX_LINE_BYTES ? MAX_LINE_BYTES : nl;
      this.emit(processId, stream, buf.subarray(0, end));
      buf = buf.subarray(end === nl ? end + 1 : end);
    }
    if (buf.length > 0) this.partial.set(key, Buffer.from(buf));
    else this.partial.delete(key);
  }

  /** Writes out a process's unterminated last line when it exits. */
  flush(processId: string): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const key = `${processId}\0${stream}`;
      const rest = this.partial.get(key);
      if (rest) this.emit(processId, stream, rest);
      this.partial.delete(key);
    }
  }

  private emit(processId: string, stream: OutputStream, bytes: Buffer): void {
    const entry: LogEntry = { t: Date.now(), s: stream, p: processId, line: bytes.toString("utf8") };
    // Synchronous append: one write per line keeps lines whole and the order exact.
    fs.writeSync(this.fds[stream], `${JSON.stringify(entry)}\n`);
    for (const fn of this.listeners) fn(entry);
  }

  close(): void {
    for (const fd of Object.values(this.fds)) fs.closeSync(fd);
  }
}

function readFile(file: string): LogEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: LogEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as LogEntry);
    } catch {
      /* a torn last line after a crash */
    }
  }
  return out;
}

/** Reads the logs without a runtime service (it may be gone): both streams merged by time. */
export function readLogs(paths: Pick<ContainerPaths, "stdoutLog" | "stderrLog">, q: LogQuery = {}): LogEntry[] {
  const wantOut = q.stdout !== false;
  const wantErr = q.stderr !== false;
  const a = wantOut ? readFile(paths.stdoutLog) : [];
  const b = wantErr ? readFile(paths.stderrLog) : [];
  // A stable merge: each file is already in time order.
  const merged: LogEntry[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.t <= b[j]!.t)) merged.push(a[i++]!);
    else merged.push(b[j++]!);
  }
  let out = q.since !== undefined ? merged.filter((e) => e.t >= q.since!) : merged;
  if (q.tail !== undefined) out = q.tail === 0 ? [] : out.slice(-q.tail);
  return out;
}

export function matchesQuery(e: LogEntry, q: LogQuery): boolean {
  if (e.s === "stdout" && q.stdout === false) return false;
  if (e.s === "stderr" && q.stderr === false) return false;
  return q.since === undefined || e.t >= q.since;
}
