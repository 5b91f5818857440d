// Container logs: conmon writes each process's output to a k8s-file log of its own,
// <container dir>/logs/<processId>.log, one line per entry:
//   2026-12-01T17:46:29.270989495+00:00 stdout F hello
// a nanosecond timestamp, the stream, F for a full line or P for a partial one (the line goes on
// in the stream's next entry: a long line, or output that ended without a newline), then the
// text. Readers merge files by time and read them entry by entry, so memory never grows with
// the log; the files are the buffer a slow follower reads later.
// A rotated log (docs/vm.md, "Log rotation") is a chain: <P>.log.N … <P>.log.1, then <P>.log,
// read oldest first; a follower that finds <P>.log replaced reads the old file to its end first.
import fs from "node:fs";
import { basename, dirname, join } from "node:path";
import type { OutputStream } from "./driver.js";

export interface LogEntry {
  /** ms since the epoch, from the timestamp conmon wrote. */
  t: number;
  /** The timestamp as conmon wrote it (nanoseconds), for `logs -t`. */
  ts: string;
  s: OutputStream;
  p: string;
  line: string;
  /** The line continues in the stream's next entry: print it without a newline. */
  partial?: true;
}

/** What a reader prints for an entry: its line, and the newline it had unless it was partial. */
export const entryText = (e: LogEntry): string => (e.partial ? e.line : `${e.line}\n`);

export interface LogQuery {
  since?: number;
  /** Entries before this time only (exclusive, as docker's --until). */
  until?: number;
  tail?: number;
  stdout?: boolean;
  stderr?: boolean;
}

/** A process's log file. */
export interface LogFile {
  processId: string;
  path: string;
}

export const processLogPath = (logsDir: string, processId: string): string => join(logsDir, `${processId}.log`);

/** The rotated files of a log, oldest first: <path>.N … <path>.1. */
export function rotatedPaths(path: string): string[] {
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dirname(path));
  } catch {
    return []; // no directory: no log yet
  }
  return names
    .filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)))
    .map((n) => Number(n.slice(prefix.length)))
    .sort((a, b) => b - a)
    .map((i) => `${path}.${i}`);
}

/** The log file of every process that has one in `logsDir`. */
export function logFilesIn(logsDir: string): LogFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(logsDir);
  } catch {
    return []; // no process has written yet
  }
  return names.filter((n) => n.endsWith(".log")).map((n) => ({ processId: n.slice(0, -4), path: join(logsDir, n) }));
}

/** One k8s-file line as an entry; undefined for a line that is not one (torn by a crash). */
export function parseK8sLine(text: string, processId: string): LogEntry | undefined {
  const a = text.indexOf(" ");
  const b = text.indexOf(" ", a + 1);
  const c = text.indexOf(" ", b + 1);
  if (a < 0 || b < 0) return undefined;
  const ts = text.slice(0, a);
  const s = text.slice(a + 1, b);
  const tag = c < 0 ? text.slice(b + 1) : text.slice(b + 1, c);
  if ((s !== "stdout" && s !== "stderr") || (tag !== "F" && tag !== "P")) return undefined;
  const t = timeOf(ts);
  if (t === undefined) return undefined;
  const e: LogEntry = { t, ts, s, p: processId, line: c < 0 ? "" : text.slice(c + 1) };
  if (tag === "P") e.partial = true;
  return e;
}

/** "2026-12-01T17:46:29.270989495+00:00" → epoch ms (the digits past the millisecond dropped). */
function timeOf(ts: string): number | undefined {
  const m = /^(.{19})(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return undefined;
  const t = Date.parse(`${m[1]}.${(m[2] ?? "").padEnd(3, "0").slice(0, 3)}${m[3]}`);
  return Number.isFinite(t) ? t : undefined;
}

/** Bytes read from a log file at a time: a reader's memory is this plus one entry. */
const READ_CHUNK_BYTES = 256 * 1024;

/**
 * Reads one log file forward, one entry at a time, from where it last stopped. `limit` caps the
 * bytes read (the file's size when a non-following read began); without it, the cursor follows
 * the file as it grows. An incomplete last line is kept until its newline arrives; a line that
 * does not parse (torn by a crash) is skipped.
 */
class FileCursor {
  private fd: number | undefined;
  private offset = 0;
  private buf: Buffer = Buffer.alloc(0);
  /** The bytes read and not yet parsed are pending[start..]; pending is a view of buf. */
  private pending: Buffer = Buffer.alloc(0);
  private start = 0;
  private head: LogEntry | undefined;
  /** The inode the fd reads: a following cursor notices when its path names another file (a rotation). */
  private ino: number | undefined;

  constructor(private readonly file: string, private readonly processId: string, private readonly limit?: number) {
    this.open();
  }

  private open(): void {
    try {
      this.fd = fs.openSync(this.file, "r");
      this.ino = fs.fstatSync(this.fd).ino;
    } catch {
      this.fd = undefined; // not written yet: a follower retries
    }
  }

  /** The path now names a newer file than the one read (conmon reopened it after a rotation). */
  private replaced(): boolean {
    const now = fs.statSync(this.file, { throwIfNoEntry: false });
    return now !== undefined && now.ino !== this.ino;
  }

  /** The next complete entry, without consuming it; undefined when none is complete (yet). */
  peek(): LogEntry | undefined {
    while (!this.head) {
      const nl = this.pending.indexOf(10, this.start);
      if (nl === -1) {
        if (!this.fill()) return undefined;
        continue;
      }
      const text = this.pending.toString("utf8", this.start, nl);
      this.start = nl + 1;
      this.head = parseK8sLine(text, this.processId);
    }
    return this.head;
  }

  take(): LogEntry | undefined {
    const e = this.peek();
    this.head = undefined;
    return e;
  }

  /**
   * Reads the next chunk after the unparsed rest; false when there is nothing more now. One
   * buffer is reused (the rest moved to its front, grown only for a line longer than it), so a
   * long read allocates nothing per chunk for the GC to catch up with.
   */
  private fill(): boolean {
    if (this.fd === undefined) this.open();
    if (this.fd === undefined) return false;
    const rest = this.pending.length - this.start;
    if (this.buf.length - rest < READ_CHUNK_BYTES / 2) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, READ_CHUNK_BYTES));
      this.pending.copy(bigger, 0, this.start);
      this.buf = bigger;
    } else {
      this.pending.copy(this.buf, 0, this.start);
    }
    const room = this.buf.length - rest;
    const want = this.limit === undefined ? room : Math.min(room, this.limit - this.offset);
    const n = want <= 0 ? 0 : fs.readSync(this.fd, this.buf, rest, want, this.offset);
    this.offset += n;
    this.pending = this.buf.subarray(0, rest + n);
    this.start = 0;
    if (n > 0 || this.limit !== undefined || !this.replaced()) return n > 0;
    // Rotated, and the old file read to its end after the new one appeared (conmon writes no
    // more to it once it has reopened the path): go on with the new file from its start.
    fs.closeSync(this.fd);
    this.fd = undefined;
    this.offset = 0;
    this.open();
    return this.fill();
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

const sizeOf = (file: string) => fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;

/**
 * One process's log across its rotations: the rotated files as they are now, then the current
 * one, to its size now or, following, as it grows and is rotated again. Every file is opened
 * here, so a rotation during the read renames nothing under it.
 */
class ChainCursor {
  private readonly cursors: FileCursor[];
  private i = 0;

  constructor(f: LogFile, follow: boolean) {
    const rotated = rotatedPaths(f.path).map((p) => new FileCursor(p, f.processId, sizeOf(p)));
    this.cursors = [...rotated, new FileCursor(f.path, f.processId, follow ? undefined : sizeOf(f.path))];
  }

  peek(): LogEntry | undefined {
    for (;;) {
      const e = this.cursors[this.i]!.peek();
      if (e || this.i === this.cursors.length - 1) return e;
      this.cursors[this.i++]!.close(); // a rotated file read to its end
    }
  }

  take(): LogEntry | undefined {
    const e = this.peek();
    return e ? this.cursors[this.i]!.take() : undefined;
  }

  close(): void {
    for (const c of this.cursors) c.close();
  }
}

/**
 * Log files merged by time (stdout first on a tie: each file is already
 * in time order), entry by entry, so memory does not grow with the log. A following reader
 * returns undefined when it has caught up and can be asked again after the files grew.
 */
export class LogReader {
  private readonly cursors: ChainCursor[] = [];
  /** --tail: lines to drop before the first one shown. */
  private skip = 0;
  private readonly lines = new LineCounter();

  constructor(files: LogFile[], private readonly q: LogQuery = {}, opts: { follow?: boolean } = {}) {
    if (q.tail !== undefined) {
      // --tail N: count the lines there now in a first pass, then skip all but the last N.
      // A line split into partial entries counts once, as the process wrote it.
      const counter = new LineCounter();
      for (const f of files) {
        const c = new ChainCursor(f, false);
        for (let e; (e = c.take()); ) counter.line(e, matchesQuery(e, q));
        c.close();
      }
      this.skip = Math.max(0, counter.counted() - q.tail);
    }
    for (const f of files) this.cursors.push(new ChainCursor(f, opts.follow === true));
  }

  next(): LogEntry | undefined {
    for (;;) {
      let best: ChainCursor | undefined;
      for (const c of this.cursors) {
        const e = c.peek();
        if (e && (!best || e.t < best.peek()!.t)) best = c;
      }
      const e = best?.take();
      if (!e) return undefined;
      const matches = matchesQuery(e, this.q);
      const line = this.lines.index(e, matches);
      if (!matches) continue;
      if (line < this.skip) continue;
      return e;
    }
  }

  close(): void {
    for (const c of this.cursors) c.close();
  }
}

/** Numbers the lines of both streams as they were written: an entry after a partial one continues its line. */
class LineCounter {
  private next = 0;
  private readonly current: Record<string, number> = {};
  private readonly open: Record<string, boolean> = {};

  /** Lines numbered so far. */
  counted(): number {
    return this.next;
  }

  /** Follows the entry; numbers the line it starts when `numbered` (entries a query filters out are not). */
  line(e: LogEntry, numbered: boolean): number | undefined {
    const starts = !this.open[e.s];
    this.open[e.s] = e.partial === true;
    if (!starts || !numbered) return undefined;
    this.current[e.s] = this.next++;
    return this.current[e.s];
  }

  /** The number of the line the entry belongs to. */
  index(e: LogEntry, numbered: boolean): number {
    return this.line(e, numbered) ?? this.current[e.s] ?? 0;
  }
}

/** Reads log files as they are now, merged by time, lazily. */
export function* logEntries(files: LogFile[], q: LogQuery = {}): Generator<LogEntry> {
  const reader = new LogReader(files, q);
  try {
    for (let e; (e = reader.next()); ) yield e;
  } finally {
    reader.close();
  }
}

/** The whole log as an array: for tests and small logs only. */
export function readLogs(files: LogFile[], q: LogQuery = {}): LogEntry[] {
  return [...logEntries(files, q)];
}

export function matchesQuery(e: LogEntry, q: LogQuery): boolean {
  if (e.s === "stdout" && q.stdout === false) return false;
  if (e.s === "stderr" && q.stderr === false) return false;
  return (q.since === undefined || e.t >= q.since) && (q.until === undefined || e.t < q.until);
}

/** How often a follower reads the files again besides fs.watch's doorbell, which can miss a write. */
const FOLLOW_POLL_MS = 250;

export interface FollowHooks {
  /** Settles once nothing more will be written (init exited and its output was flushed). */
  done: Promise<unknown>;
  signal: AbortSignal;
  /** Sends an entry; a returned promise is awaited before the file is read further (backpressure). */
  emit(e: LogEntry): void | Promise<void>;
}

/**
 * `logs --follow`: reads the files from the start (or the tail), then follows them as they grow,
 * until `done` and a last read. The files are the buffer: a slow reader only reads them later,
 * so neither the container nor this process queues output for it.
 */
export async function followLogs(files: LogFile[], q: LogQuery, hooks: FollowHooks): Promise<void> {
  // One doorbell for the whole stream (a write, the end, or the abort): a listener or a
  // Promise.race per wait would pile up on the long-lived signal and promise over a long log.
  let finished = false;
  let rung = false;
  let wake = () => {};
  const ring = () => {
    rung = true;
    wake();
  };
  const off = watchFiles(files, ring);
  hooks.signal.addEventListener("abort", ring, { once: true });
  void hooks.done.then(() => ((finished = true), ring()), () => ((finished = true), ring()));
  const reader = new LogReader(files, q, { follow: true });
  try {
    for (;;) {
      // Read `finished` before the pass: once it is true, the pass has seen every entry.
      const last = finished;
      rung = false;
      for (let e; (e = reader.next()); ) {
        const sent = hooks.emit(e);
        if (sent) await sent;
        if (hooks.signal.aborted) return;
      }
      if (last || hooks.signal.aborted) return;
      if (!rung) await new Promise<void>((resolve) => (wake = resolve));
      wake = () => {};
    }
  } finally {
    off();
    hooks.signal.removeEventListener("abort", ring);
    reader.close();
  }
}

/** Rings on every change in the files' directories (conmon writes there), and every FOLLOW_POLL_MS. */
function watchFiles(files: LogFile[], ring: () => void): () => void {
  const watchers: fs.FSWatcher[] = [];
  for (const dir of new Set(files.map((f) => dirname(f.path)))) {
    try {
      fs.mkdirSync(dir, { recursive: true });
      const w = fs.watch(dir, ring);
      w.on("error", () => {}); // the directory went: the poll goes on until the follow ends
      watchers.push(w);
    } catch {
      // Cannot watch (removed meanwhile): the poll alone rings.
    }
  }
  const timer = setInterval(ring, FOLLOW_POLL_MS);
  return () => {
    clearInterval(timer);
    for (const w of watchers) w.close();
  };
}
