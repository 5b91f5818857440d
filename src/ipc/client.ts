// The IPC client: one connection, many calls in flight, replies matched by id. Every failure
// reaches the caller as a BerthError with one of the model's codes.
import { createConnection, type Socket } from "node:net";
import type { Packr } from "msgpackr";
import { MAX_TIMER_MS } from "../model/budget.js";
import { BerthError, isErrorCode, type ErrorInfo } from "../model/errors.js";
import {
  DEFAULT_MAX_FRAME_BYTES, FrameReader, FrameTooLarge, PROTOCOL_VERSION, encodeFrame, isPlainObject, itemPayload, newCodec,
  type ClientFrame, type Peer,
} from "./frame.js";

export interface ConnectOptions {
  /** Default timeout for connecting and for each unary call. Default 30 s. */
  timeoutMs?: number;
  maxFrameBytes?: number;
}

interface Pending {
  route: string;
  resolve(value: unknown): void;
  reject(err: BerthError): void;
  timer: NodeJS.Timeout | undefined;
}

/** Items, or frame bytes, a stream may hold unread before the connection stops reading from the socket. */
const STREAM_HIGH_WATER = 1024;
const STREAM_HIGH_WATER_BYTES = 1024 * 1024;
const READ_BUFFER_BYTES = 64 * 1024;

function fromWire(error: unknown, fallback: string): BerthError {
  if (isPlainObject(error) && isErrorCode(error.code) && typeof error.message === "string") return BerthError.from(error as unknown as ErrorInfo); // from() checks the reason
  return new BerthError("internalError", fallback);
}

function connectError(socketPath: string, err: NodeJS.ErrnoException): BerthError {
  switch (err.code) {
    case "ENOENT": return new BerthError("notFound", `no berth server at ${socketPath}: the socket does not exist`);
    case "ECONNREFUSED": return new BerthError("notFound", `no berth server is listening on ${socketPath} (stale socket)`);
    case "EACCES":
    case "EPERM": return new BerthError("unsupported", `permission denied connecting to ${socketPath}: the socket is for root (or an allowed group)`);
    default: return new BerthError("internalError", `cannot connect to ${socketPath}: ${err.message}`);
  }
}

export class ClientStream<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;
  private error: BerthError | undefined;
  private ended = false;
  private waiter: { resolve(r: IteratorResult<T>): void; reject(e: BerthError): void } | undefined;
  /**
   * A relay's sink: gets each item's msgpack bytes, valid only during the call, instead of the
   * decoded item; a returned promise pauses the connection until it settles.
   */
  sink: ((item: Buffer) => Promise<void> | undefined) | undefined;

  constructor(private readonly hooks: { cancel(): void; drained(): void; ended(): void }) {}

  /** Unread items (for flow control). */
  get backlog(): number {
    return this.items.length - this.head;
  }

  /** Frame bytes of the unread items (for flow control). */
  get backlogBytes(): number {
    return this.bytes;
  }

  push(item: T, size = 0): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: item, done: false });
    } else {
      this.items.push(item);
      this.sizes.push(size);
      this.bytes += size;
    }
  }

  end(error?: BerthError): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.hooks.ended();
    const w = this.waiter;
    this.waiter = undefined;
    if (w) error && this.backlog === 0 ? w.reject(error) : w.resolve({ value: undefined, done: true });
  }

  /** Stops the stream: the server aborts the handler and frees it. Safe to call more than once. */
  cancel(): void {
    if (this.ended) return;
    this.hooks.cancel();
    this.items = [];
    this.sizes = [];
    this.bytes = 0;
    this.head = 0;
    this.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.head < this.items.length) {
          this.bytes -= this.sizes[this.head]!;
          const value = this.items[this.head++]!;
          if (this.head === this.items.length) {
            this.items = [];
            this.sizes = [];
            this.bytes = 0;
            this.head = 0;
            this.hooks.drained();
          }
          return Promise.resolve({ value, done: false });
        }
        if (this.ended) return this.error ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
      },
      // break / return in a for-await loop lands here.
      return: () => {
        this.cancel();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

export class IpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Map<number, ClientStream<unknown>>();
  private readonly codec: Packr = newCodec();
  private closedWith: BerthError | undefined;
  private paused = false;
  /** Sink calls still pushing back (see ClientStream.sink). */
  private blockedSinks = 0;
  /** What the server saw of us at the handshake (kernel-reported). */
  peer: Peer = { uid: -1, gid: -1, pid: -1 };

  private constructor(private readonly socket: Socket, private readonly timeoutMs: number) {}

  static connect(socketPath: string, opts: ConnectOptions = {}): Promise<IpcClient> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const reader = new FrameReader(opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
    return new Promise<IpcClient>((resolve, reject) => {
      // One read buffer for the connection's life: a fresh 64 KiB buffer per read would be garbage
      // the GC collects only after tens of megabytes, while a large stream flows (FrameReader copies
      // what it must keep).
      let onData: (chunk: Buffer) => void = () => {};
      const readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
      const onread = { buffer: readBuffer, callback: (n: number) => (onData(readBuffer.subarray(0, n)), true) };
      const socket = createConnection({ path: socketPath, onread });
      const client = new IpcClient(socket, timeoutMs);
      let settled = false;
      let fatalSeen: BerthError | undefined;
      const settle = (err?: BerthError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          socket.destroy();
          reject(err);
        } else resolve(client);
      };
      const timer = setTimeout(() => settle(new BerthError("timeout", `no handshake from ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
      socket.once("connect", () => client.write({ t: "hello", v: PROTOCOL_VERSION }));
      socket.on("error", (err: NodeJS.ErrnoException) => {
        // A refused peer may see EPIPE/ECONNRESET for its hello; the fatal frame, if read, wins.
        if (!settled && !fatalSeen && err.code !== "EPIPE" && err.code !== "ECONNRESET") settle(connectError(socketPath, err));
      });
      socket.on("close", () => {
        settle(fatalSeen ?? new BerthError("interrupted", `${socketPath} closed the connection during the handshake`));
        client.shutdown(new BerthError("interrupted", `the connection to ${socketPath} closed`));
      });
      onData = (chunk: Buffer) => {
        try {
          reader.push(chunk, (body) => {
            // A relayed stream's item is passed on as bytes: never decoded, never re-encoded.
            const at = settled ? itemPayload(body) : undefined;
            const relayed = at && client.streams.get(at.id);
            if (at && relayed?.sink) {
              client.relayItem(relayed, body.subarray(at.offset));
              return !client.closedWith;
            }
            let msg: unknown;
            try {
              msg = client.codec.unpack(body);
            } catch (err) {
              throw new BerthError("internalError", `the server sent a frame that is not msgpack: ${(err as Error).message}`);
            }
            if (!isPlainObject(msg)) throw new BerthError("internalError", "the server sent a frame that is not a map");
            if (!settled) {
              if (msg.t === "hello" && msg.v === PROTOCOL_VERSION) {
                if (isPlainObject(msg.peer)) client.peer = msg.peer as unknown as Peer;
                settle();
              } else if (msg.t === "fatal") {
                fatalSeen = fromWire(msg, "the server refused the connection");
                settle(fatalSeen);
                return false;
              } else if (msg.t === "hello") {
                settle(new BerthError("unsupported", `server speaks protocol ${String(msg.v)}, this client ${PROTOCOL_VERSION}`));
                return false;
              }
              return true;
            }
            client.onMessage(msg, body.length);
            return !client.closedWith;
          }, true);
        } catch (err) {
          const e = err instanceof FrameTooLarge ? new BerthError("internalError", `the server sent an oversized frame: ${err.message}`) : (err as BerthError);
          settle(e);
          client.shutdown(e);
        }
      };
    });
  }

  private write(frame: ClientFrame): void {
    if (!this.closedWith) this.socket.write(encodeFrame(this.codec, frame));
  }

  private onMessage(msg: Record<string, unknown>, size: number): void {
    const id = msg.id as number;
    switch (msg.t) {
      case "res": {
        const p = this.pending.get(id);
        if (!p) return; // timed out or cancelled locally; the late reply is dropped
        this.pending.delete(id);
        if (p.timer) clearTimeout(p.timer);
        if (msg.error !== undefined) p.reject(fromWire(msg.error, `${p.route} failed with a malformed error`));
        else p.resolve(msg.result);
        return;
      }
      case "item": {
        const s = this.streams.get(id);
        if (!s) return;
        if (s.sink) return this.relayItem(s, this.codec.pack(msg.item)); // a layout itemPayload does not know
        s.push(msg.item, size);
        if ((s.backlog >= STREAM_HIGH_WATER || s.backlogBytes >= STREAM_HIGH_WATER_BYTES) && !this.paused) {
          // Let the kernel's buffers push back on the server instead of queueing without bound here.
          this.paused = true;
          this.socket.pause();
        }
        return;
      }
      case "end": {
        const s = this.streams.get(id);
        if (!s) return;
        this.streams.delete(id);
        s.end(msg.error !== undefined ? fromWire(msg.error, "stream failed with a malformed error") : undefined);
        return;
      }
      case "fatal":
        this.shutdown(fromWire(msg, "the server closed the connection"));
        return;
    }
  }

  /** Fails everything outstanding with `err` and closes the socket. */
  private shutdown(err: BerthError): void {
    if (this.closedWith) return;
    this.closedWith = err;
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    for (const s of this.streams.values()) s.end(err);
    this.streams.clear();
    this.socket.destroy();
  }

  call<T = unknown>(route: string, body?: unknown, opts: { timeoutMs?: number } = {}): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { route, resolve: resolve as (v: unknown) => void, reject, timer: undefined };
      if (Number.isFinite(timeoutMs)) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          this.write({ t: "cancel", id }); // the server stops work for it too
          reject(new BerthError("timeout", `${route} got no reply within ${timeoutMs} ms`));
        }, Math.min(timeoutMs, MAX_TIMER_MS));
      }
      this.pending.set(id, p);
      try {
        this.write({ t: "req", id, route, body, ...(Number.isFinite(timeoutMs) ? { timeoutMs } : {}) });
      } catch (err) {
        this.pending.delete(id);
        if (p.timer) clearTimeout(p.timer);
        reject(new BerthError("invalidArgument", `cannot encode the ${route} request: ${(err as Error).message}`));
      }
    });
  }

  /**
   * Opens a stream. Items arrive in order; the iteration ends with the server's end frame or
   * throws its error. `cancel()` (or leaving a for-await loop early) stops it on the server too.
   * With `sink`, items go to it as msgpack bytes and the iteration yields none (a relay).
   */
  stream<T = unknown>(route: string, body?: unknown, opts: { timeoutMs?: number; sink?: ClientStream<T>["sink"] } = {}): AsyncIterable<T> & { cancel(): void } {
    const id = this.nextId++;
    let timer: NodeJS.Timeout | undefined;
    const stream = new ClientStream<T>({
      cancel: () => {
        if (this.streams.delete(id)) this.write({ t: "cancel", id });
      },
      drained: () => this.maybeResume(),
      ended: () => {
        if (timer) clearTimeout(timer);
        this.maybeResume();
      },
    });
    stream.sink = opts.sink;
    if (this.closedWith) {
      stream.end(this.closedWith);
      return stream;
    }
    this.streams.set(id, stream as ClientStream<unknown>);
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        if (!this.streams.delete(id)) return;
        this.write({ t: "cancel", id });
        stream.end(new BerthError("timeout", `${route} stream did not end within ${opts.timeoutMs} ms`));
      }, Math.min(opts.timeoutMs, MAX_TIMER_MS));
    }
    try {
      this.write({ t: "req", id, route, body, ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) });
    } catch (err) {
      this.streams.delete(id);
      stream.end(new BerthError("invalidArgument", `cannot encode the ${route} request: ${(err as Error).message}`));
    }
    return stream;
  }

  private relayItem(s: ClientStream<unknown>, item: Buffer): void {
    const blocked = s.sink!(item);
    if (!blocked) return;
    this.blockedSinks++;
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    void blocked.then(() => {
      this.blockedSinks--;
      this.maybeResume();
    });
  }

  private maybeResume(): void {
    if (!this.paused || this.blockedSinks > 0) return;
    for (const s of this.streams.values()) if (s.backlog >= STREAM_HIGH_WATER / 4 || s.backlogBytes >= STREAM_HIGH_WATER_BYTES / 4) return;
    this.paused = false;
    this.socket.resume();
  }

  /** Closes the connection; calls still outstanding fail with `cancelled`. */
  close(): void {
    this.shutdown(new BerthError("cancelled", "the client closed the connection"));
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }
}

