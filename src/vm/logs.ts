// Container logs: stdout and stderr go to separate append-only files, one JSON object per line:
//   {"t":1700000000123,"s":"stdout","p":"web","line":"hello"}
// t = ms since the epoch when the service read the line, s = stream, p = processId, and
// "partial":true when the line has no newline of its own: a line longer than MAX_LINE_BYTES is
// split into partial entries and a last one without them, and output that ends without a newline
// ends with a partial entry, so a reader can rebuild the exact bytes (docker's partial messages).
// Files are opened for append and never truncated, so a restart keeps earlier output.
import fs from "node:fs";
import type { OutputStream } from "./driver.js";
import type { ContainerPaths } from "./paths.js";

export interface LogEntry {
  t: number;
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
  tail?: number;
  stdout?: boolean;
  stderr?: boolean;
}

// A line longer than this is split: the service must not buffer without bound for a process
// that writes megabytes without a newline.
const MAX_LINE_BYTES = 16 * 1024;

/** Where to split a too-long line at or before `at`: never inside a UTF-8 sequence (its continuation bytes are 10xxxxxx). */
function charBoundary(buf: Buffer, at: number): number {
  let end = at;
  while (end > at - 4 && end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return end > 0 && (buf[end]! & 0xc0) !== 0x80 ? end : at;
}

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
      if (nl !== -1 && nl <= MAX_LINE_BYTES) {
        this.emit(processId, stream, buf.subarray(0, nl), false);
        buf = buf.subarray(nl + 1);
        continue;
      }
      const end = charBoundary(buf, MAX_LINE_BYTES);
      this.emit(processId, stream, buf.subarray(0, end), true);
      buf = buf.subarray(end);
    }
    if (buf.length > 0) this.partial.set(key, Buffer.from(buf));
    else this.partial.delete(key);
  }

  /** Writes out a process's unterminated last line when it exits. */
  flush(processId: string): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const key = `${processId}\0${stream}`;
      const rest = this.partial.get(key);
      if (rest) this.emit(processId, stream, rest, true);
      this.partial.delete(key);
    }
  }

  private emit(processId: string, stream: OutputStream, bytes: Buffer, partial: boolean): void {
    const entry: LogEntry = { t: Date.now(), s: stream, p: processId, line: bytes.toString("utf8") };
    if (partial) entry.partial = true;
    // Synchronous append: one write per line keeps lines whole and the order exact.
    fs.writeSync(this.fds[stream], `${JSON.stringify(entry)}\n`);
    for (const fn of this.listeners) fn(entry);
  }

  close(): void {
    for (const fd of Object.values(this.fds)) fs.closeSync(fd);
  }
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

  constructor(private readonly file: string, private readonly limit?: number) {
    this.open();
  }

  private open(): void {
    try {
      this.fd = fs.openSync(this.file, "r");
    } catch {
      this.fd = undefined; // not written yet: a follower retries
    }
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
      try {
        this.head = JSON.parse(text) as LogEntry;
      } catch {
        /* a torn line after a crash */
      }
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
    return n > 0;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

const sizeOf = (file: string) => fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;

/**
 * Both streams of a container's log merged by time (stdout first on a tie: each file is already
 * in time order), entry by entry, so memory does not grow with the log. A following reader
 * returns undefined when it has caught up and can be asked again after the files grew.
 */
export class LogReader {
  private readonly cursors: FileCursor[] = [];
  /** --tail: lines to drop before the first one shown. */
  private skip = 0;
  private readonly lines = new LineCounter();

  constructor(paths: Pick<ContainerPaths, "stdoutLog" | "stderrLog">, private readonly q: LogQuery = {}, opts: { follow?: boolean } = {}) {
    const files = [...(q.stdout !== false ? [paths.stdoutLog] : []), ...(q.stderr !== false ? [paths.stderrLog] : [])];
    const limits = files.map((f) => (opts.follow ? undefined : sizeOf(f)));
    if (q.tail !== undefined) {
      // --tail N: count the lines there now in a first pass, then skip all but the last N.
      // A line split into partial entries counts once, as the process wrote it.
      const counter = new LineCounter();
      for (const f of files) {
        const c = new FileCursor(f, sizeOf(f));
        for (let e; (e = c.take()); ) counter.line(e, matchesQuery(e, q));
        c.close();
      }
      this.skip = Math.max(0, counter.counted() - q.tail);
    }
    files.forEach((f, i) => this.cursors.push(new FileCursor(f, limits[i])));
  }

  next(): LogEntry | undefined {
    for (;;) {
      let best: FileCursor | undefined;
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

/** Reads the logs without a runtime service (it may be gone): both streams merged by time, lazily. */
export function* logEntries(paths: Pick<ContainerPaths, "stdoutLog" | "stderrLog">, q: LogQuery = {}): Generator<LogEntry> {
  const reader = new LogReader(paths, q);
  try {
    for (let e; (e = reader.next()); ) yield e;
  } finally {
    reader.close();
  }
}

/** The whole log as an array: for tests and small logs only. */
export function readLogs(paths: Pick<ContainerPaths, "stdoutLog" | "stderrLog">, q: LogQuery = {}): LogEntry[] {
  return [...logEntries(paths, q)];
}

export function matchesQuery(e: LogEntry, q: LogQuery): boolean {
  if (e.s === "stdout" && q.stdout === false) return false;
  if (e.s === "stderr" && q.stderr === false) return false;
  return q.since === undefined || e.t >= q.since;
}

export interface FollowHooks {
  /** Registers a doorbell rung after each entry is written; returns its unsubscribe. */
  onWrite(fn: () => void): () => void;
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
export async function followLogs(paths: Pick<ContainerPaths, "stdoutLog" | "stderrLog">, q: LogQuery, hooks: FollowHooks): Promise<void> {
  // One doorbell for the whole stream (a write, the end, or the abort): a listener or a
  // Promise.race per wait would pile up on the long-lived signal and promise over a long log.
  let finished = false;
  let rung = false;
  let wake = () => {};
  const ring = () => {
    rung = true;
    wake();
  };
  const off = hooks.onWrite(ring);
  hooks.signal.addEventListener("abort", ring, { once: true });
  void hooks.done.then(() => ((finished = true), ring()), () => ((finished = true), ring()));
  const reader = new LogReader(paths, q, { follow: true });
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
