// A client of conmon's attach socket: how `run -i`, `exec -it` and `attach` reach a process's
// stdio. The socket is SOCK_SEQPACKET, which Node's net cannot open, so the native addon
// connects it (src/vm/hostcalls.ts) and the fd is read and written with fs calls on libuv's
// thread pool: one read is one packet, one write is one packet, so no write is ever merged
// past what conmon reads at once (a libuv stream would coalesce queued writes).
// What conmon sends: a packet per read of the process's output, its first byte the stream
// (2 stdout, 3 stderr; a terminal is one stream, stdout). What it takes: raw bytes for stdin;
// a half-close (shutdown SHUT_WR) is EOF on the process's stdin. It closes the socket when the
// process has ended and its output is drained.
import fs from "node:fs";
import { BerthError } from "../model/errors.js";
import type { OutputStream } from "./driver.js";
import { writeControl } from "./conmon.js";
import { hostcalls } from "./hostcalls.js";

/** conmon reads a stdin packet into a buffer of this size (CONN_SOCK_BUF_SIZE): a larger one would be cut. */
const MAX_INPUT_PACKET = 32 * 1024;
/** conmon's output packets are at most 8192 bytes of output and their stream byte. */
const READ_BUFFER = 8192 + 1;

const STREAM_OF: Record<number, OutputStream> = { 2: "stdout", 3: "stderr" };

/** Writes one chunk of output where it belongs; a promise when the writer pushes back. */
export type OutputSink = (stream: OutputStream, data: Buffer) => Promise<void> | undefined;

export interface AttachConnection {
  /** Settles when conmon closed the socket (the process ended) or close() was called. */
  readonly ended: Promise<void>;
  /** Sends stdin bytes, in order; resolves once the kernel has taken them. */
  write(data: Buffer): Promise<void>;
  /** EOF on the process's stdin; its output keeps coming. */
  closeInput(): void;
  /** Leaves: no more input or output. */
  close(): void;
}

/** Connects to the attach socket in `dir` and pumps its output into `sink` until it ends. */
export function connectAttach(dir: string, sink: OutputSink): AttachConnection {
  let fd: number;
  try {
    fd = hostcalls().seqpacketConnect(dir, "attach");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" || code === "ECONNREFUSED" ? "its monitor is not serving it (the process has ended)" : (err as Error).message;
    throw new BerthError("invalidState", `cannot attach: ${why}`);
  }
  let closed = false;
  let writes = Promise.resolve();
  let resolveEnded!: () => void;
  const ended = new Promise<void>((r) => (resolveEnded = r));

  const finish = () => {
    if (closed) return;
    closed = true;
    // After the reads and the queued writes: closing an fd another thread uses is a race.
    void writes.finally(() => fs.close(fd, () => resolveEnded()));
  };
  const readNext = () => {
    const buf = Buffer.allocUnsafe(READ_BUFFER);
    fs.read(fd, buf, 0, READ_BUFFER, null, (err, n) => {
      if (err || n === 0) return finish();
      const stream = STREAM_OF[buf[0]!];
      const pushedBack = stream && n > 1 ? sink(stream, buf.subarray(1, n)) : undefined;
      if (pushedBack) void pushedBack.then(readNext, finish);
      else readNext();
    });
  };
  readNext();

  const writeAll = (data: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const next = (offset: number) => {
        if (offset >= data.length || closed) return resolve();
        const end = Math.min(offset + MAX_INPUT_PACKET, data.length);
        fs.write(fd, data, offset, end - offset, null, (err, n) => (err ? reject(err) : next(offset + n)));
      };
      next(0);
    });

  return {
    ended,
    write(data) {
      const done = writes.then(() => writeAll(data));
      writes = done.catch(() => {}); // a failed write (conmon went) ends the session through the read side
      return done;
    },
    closeInput() {
      void writes.then(() => {
        if (!closed) hostcalls().shutdown(fd, 1);
      });
    },
    close() {
      // Wakes the pending read (it returns 0), which closes the fd.
      if (!closed) hostcalls().shutdown(fd, 2);
    },
  };
}

/** Resizes a process's terminal through conmon's control fifo. */
export function resizeTerminal(control: string, rows: number, columns: number): void {
  writeControl(control, `1 ${rows} ${columns}`);
}
