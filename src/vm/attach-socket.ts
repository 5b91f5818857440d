// A client of conmon's attach socket: how `run -i`, `exec -it` and `attach` reach a process's
// stdio. The socket is SOCK_SEQPACKET, which Node's net cannot open, so the native addon
// connects it (src/vm/hostcalls.ts) and libuv's pipe handle takes the connected fd: one read
// is one packet, and one write at a time is one packet, never merged past what conmon reads at once.
// What conmon sends: a packet per read of the process's output, its first byte the stream
// (2 stdout, 3 stderr; a terminal is one stream, stdout). What it takes: raw bytes for stdin;
// a half-close (shutdown SHUT_WR) is EOF on the process's stdin. It closes the socket when the
// process has ended and its output is drained.
import fs from "node:fs";
import net from "node:net";
import { BerthError } from "../model/errors.js";
import type { OutputStream } from "./driver.js";
import { writeControl } from "./conmon.js";
import { hostcalls } from "./hostcalls.js";

/** conmon reads a stdin packet into a buffer of this size (CONN_SOCK_BUF_SIZE): a larger one would be cut. */
const MAX_INPUT_PACKET = 32 * 1024;

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

/** libuv's pipe handle, which opens any connected Unix socket fd; Node's public net API refuses a SEQPACKET one. */
type PipeHandle = { open(fd: number): number };
const { Pipe, constants: pipeConstants } = (process as unknown as { binding(name: "pipe_wrap"): { Pipe: new (type: number) => PipeHandle; constants: { SOCKET: number } } }).binding("pipe_wrap");

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
  // The fd in libuv's event loop (epoll), not on its thread pool: a keystroke's echo costs no
  // thread hand-offs. libuv reads a packet per read(); writes go one at a time (below), so
  // libuv never merges two into one packet.
  const handle = new Pipe(pipeConstants.SOCKET);
  if (handle.open(fd) !== 0) {
    fs.closeSync(fd);
    throw new BerthError("internalError", "cannot attach: libuv refused the attach socket");
  }
  const socket = new net.Socket({ handle, readable: true, writable: true } as net.SocketConstructorOpts);
  let closed = false;
  let writes = Promise.resolve();
  const ended = new Promise<void>((resolve) => socket.once("close", () => ((closed = true), resolve())));
  socket.on("error", () => socket.destroy()); // conmon went: the session ends as at EOF
  socket.on("data", (packet: Buffer) => {
    const stream = STREAM_OF[packet[0]!];
    const pushedBack = stream && packet.length > 1 ? sink(stream, packet.subarray(1)) : undefined;
    if (pushedBack) {
      socket.pause();
      void pushedBack.then(() => socket.resume(), () => socket.destroy());
    }
  });
  const writeOne = (chunk: Buffer) => new Promise<void>((resolve, reject) => socket.write(chunk, (err) => (err ? reject(err) : resolve())));
  const writeAll = async (data: Buffer) => {
    for (let offset = 0; offset < data.length && !closed; offset += MAX_INPUT_PACKET) await writeOne(data.subarray(offset, offset + MAX_INPUT_PACKET));
  };
  return {
    ended,
    write(data) {
      const done = writes.then(() => writeAll(data));
      writes = done.catch(() => {}); // a failed write (conmon went) ends the session through the read side
      return done;
    },
    closeInput() {
      // shutdown(2) itself: the socket's end() would also stop its reads once the peer answers.
      void writes.then(() => {
        if (!closed) hostcalls().shutdown(fd, 1);
      });
    },
    close() {
      socket.destroy();
    },
  };
}

/** Resizes a process's terminal through conmon's control fifo. */
export function resizeTerminal(control: string, rows: number, columns: number): void {
  writeControl(control, `1 ${rows} ${columns}`);
}
