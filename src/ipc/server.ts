// The IPC server: msgpack frames over a Unix socket (frame.ts), one connection per client,
// many calls in flight per connection. Every connection's peer comes from the kernel
// (SO_PEERCRED) and is checked before any frame is read. A bad frame hurts only its own
// connection; a bad body gets an invalidArgument reply and the connection carries on.
import { createServer, type Server, type Socket } from "node:net";
import type { Packr } from "msgpackr";
import { MAX_TIMER_MS } from "../model/budget.js";
import { BerthError, toBerthError, type ErrorInfo } from "../model/errors.js";
import {
  DEFAULT_MAX_FRAME_BYTES, FramePool, FrameReader, FrameTooLarge, PROTOCOL_VERSION, describe, encodeFrame, isPlainObject, newCodec,
  type Peer, type ServerFrame,
} from "./frame.js";
import { loadPeercred } from "./peercred.js";
import { abortCall, runCall, signalOf, type Call, type Route } from "./route.js";
import { claimSocketPath, fileIdentity, prepareDirectory, publish, removeIfOurs, temporaryName } from "./socket-file.js";

export type { Peer } from "./frame.js";
export type { CallContext, Route, StreamHandler, UnaryHandler } from "./route.js";

export interface ServerOptions {
  socketPath: string;
  routes: Record<string, Route>;
  maxFrameBytes?: number;
  /** Default [0]: root only. */
  allowUids?: number[];
  /** Primary gids (as SO_PEERCRED reports them) also allowed in. Default none. */
  allowGids?: number[];
  /** Deadline for unary routes without their own deadlineMs. Default 30 s. */
  defaultDeadlineMs?: number;
  /** Mode of the socket's directory when created, and the most it may grant if it exists. Default 0o700. */
  dirMode?: number;
  /** Default 0o660. */
  socketMode?: number;
  /** Group owning the socket file (with allowGids and a dirMode such as 0o710, lets that group in). */
  socketGid?: number;
  /** Calls in flight per connection before new ones are refused. Default 1024. */
  maxInFlight?: number;
  /** Bytes queued for a connection that does not read before it is dropped. Default 16 MiB. */
  maxBufferedBytes?: number;
  /**
   * Bytes queued over all connections. Above it, the connection with the longest queue is
   * dropped, so many slow clients together cannot hold more than this. Default 64 MiB.
   */
  maxTotalBufferedBytes?: number;
  /** Open connections; a connection beyond it gets a fatal "too many connections" frame. Default 1024. */
  maxConnections?: number;
  /** The listen backlog: connects not yet accepted that the kernel queues. Default 4096 (somaxconn here). */
  backlog?: number;
  /** A connection that has not said hello by then is closed. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Path of the peercred addon; defaults to native/peercred/build/Release/peercred.node. */
  peercredAddon?: string;
}

export interface IpcServer {
  readonly socketPath: string;
  close(): Promise<void>;
  /** Calls currently in flight over all connections (a freed call is no longer counted). */
  inFlight(): number;
  connections(): number;
  /** Bytes queued for clients over all connections, not yet taken by the kernel. */
  queuedBytes(): number;
}

const DEFAULT_DEADLINE_MS = 30_000;
/** A stream's emit starts pushing back once this much is queued for its connection. */
export const STREAM_PAUSE_BYTES = 1024 * 1024;

interface Conn {
  socket: Socket;
  peer: Peer;
  codec: Packr;
  reader: FrameReader;
  greeted: boolean;
  calls: Map<number, Call>;
  closed: boolean;
  /** Settles on the socket's next drain (or close): what a pushed-back emit waits for. */
  drained: Promise<void> | undefined;
}

export async function listen(opts: ServerOptions): Promise<IpcServer> {
  const peercred = loadPeercred(opts.peercredAddon); // fails loudly before the socket exists
  const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const allowUids = new Set(opts.allowUids ?? [0]);
  const allowGids = new Set(opts.allowGids ?? []);
  const defaultDeadline = opts.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS;
  const maxInFlight = opts.maxInFlight ?? 1024;
  const maxBuffered = opts.maxBufferedBytes ?? 16 * 1024 * 1024;
  const maxTotalBuffered = opts.maxTotalBufferedBytes ?? 64 * 1024 * 1024;
  const maxConnections = opts.maxConnections ?? 1024;
  const handshakeTimeout = opts.handshakeTimeoutMs ?? 10_000;
  const routes = opts.routes;
  const conns = new Set<Conn>();
  /** Every open socket, including refused ones still flushing their fatal frame. */
  const sockets = new Set<Socket>();
  /** Connections with bytes queued at their last write: the only ones the total must sum. */
  const backlogged = new Set<Conn>();
  const pool = new FramePool();

  prepareDirectory(opts.socketPath, opts.dirMode ?? 0o700);
  await claimSocketPath(opts.socketPath);

  function send(conn: Conn, frame: ServerFrame, rawItem?: Buffer): void {
    if (conn.closed) return;
    let bytes: Buffer;
    let release: ((err?: Error | null) => void) | undefined;
    try {
      ({ bytes, release } = rawItem && frame.t === "item" ? pool.encodeRawItem(frame.id, rawItem) : pool.encode(conn.codec, frame));
    } catch (err) {
      // A handler result msgpack cannot carry (e.g. a huge BigInt): the caller still gets an answer.
      if (frame.t !== "res" && frame.t !== "item") return;
      const error = { code: "internalError" as const, message: `cannot encode the ${frame.t === "res" ? "result" : "item"}: ${(err as Error).message}` };
      bytes = encodeFrame(conn.codec, frame.t === "res" ? { t: "res", id: frame.id, error } : { t: "end", id: frame.id, error });
      if (frame.t === "item") finish(conn, conn.calls.get(frame.id), undefined);
    }
    if (bytes.length - 4 > maxFrameBytes) {
      release?.();
      if (frame.t === "res" || frame.t === "item") {
        const error = { code: "internalError" as const, message: `the ${frame.t === "res" ? "result" : "item"} is ${bytes.length - 4} bytes, over the frame limit of ${maxFrameBytes}` };
        send(conn, frame.t === "res" ? { t: "res", id: frame.id, error } : { t: "end", id: frame.id, error });
        if (frame.t === "item") finish(conn, conn.calls.get(frame.id), undefined);
      }
      return;
    }
    conn.socket.write(bytes, release);
    if (conn.socket.writableLength === 0) return;
    if (conn.socket.writableLength > maxBuffered) {
      return overflow(conn, `connection dropped: more than ${maxBuffered} bytes queued for a client that is not reading`);
    }
    backlogged.add(conn);
    let total = 0;
    let longest = conn;
    for (const c of backlogged) {
      const queued = c.socket.writableLength;
      if (queued === 0 || c.closed) backlogged.delete(c);
      total += queued;
      if (queued > longest.socket.writableLength) longest = c;
    }
    if (total > maxTotalBuffered) {
      overflow(longest, `connection dropped: the server has more than ${maxTotalBuffered} bytes queued for its clients, and this one is furthest behind (${longest.socket.writableLength} bytes unread)`);
    }
  }

  /**
   * Drops a client that is not reading. Its queue is discarded at once (destroy, not end): that
   * memory is what the limit protects. The fatal frame is written first, so a client that was
   * only slow may still read why.
   */
  function overflow(conn: Conn, message: string): void {
    backlogged.delete(conn);
    const bytes = encodeFrame(conn.codec, { t: "fatal", code: "cancelled", message } satisfies ServerFrame);
    drop(conn, new BerthError("cancelled", message));
    conn.socket.write(bytes);
    conn.socket.destroy();
  }

  /** What a stream's emit returns while its connection's queue is over STREAM_PAUSE_BYTES. */
  function drained(conn: Conn, call: Call): Promise<void> | undefined {
    if (conn.closed || call.done || conn.socket.writableLength < STREAM_PAUSE_BYTES) return undefined;
    conn.drained ??= new Promise<void>((resolve) => {
      const done = () => {
        conn.socket.off("drain", done);
        conn.socket.off("close", done);
        conn.drained = undefined;
        resolve();
      };
      conn.socket.on("drain", done);
      conn.socket.on("close", done);
    });
    // A cancelled or timed-out call stops waiting too, so its handler can return.
    const signal = signalOf(call);
    if (signal.aborted) return undefined;
    const drain = conn.drained;
    return new Promise<void>((resolve) => {
      const onAbort = () => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
      void drain.then(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  /** Sends a connection-level error, then closes once the client has had a chance to read it. */
  function fatal(conn: Conn, code: ErrorInfo["code"], message: string): void {
    if (conn.closed) return;
    const bytes = encodeFrame(conn.codec, { t: "fatal", code, message } satisfies ServerFrame);
    drop(conn, new BerthError(code, message));
    conn.socket.end(bytes);
    // Keep reading (and discarding) until the client hangs up, so our unread bytes do not turn
    // the close into a reset that could swallow the fatal frame; but never wait long.
    setTimeout(() => conn.socket.destroy(), 2000).unref();
  }

  /** Forgets every call on a connection and aborts its handlers. */
  function drop(conn: Conn, reason: BerthError): void {
    if (conn.closed) return;
    conn.closed = true;
    conns.delete(conn);
    for (const call of conn.calls.values()) {
      call.done = true;
      if (call.timer) clearTimeout(call.timer);
      abortCall(call, reason);
    }
    conn.calls.clear();
  }

  /** Ends a call once: frees it, then sends its last frame (reply or end) if there is one. */
  function finish(conn: Conn, call: Call | undefined, last: ServerFrame | undefined): void {
    if (!call || call.done) return;
    call.done = true;
    if (call.timer) clearTimeout(call.timer);
    conn.calls.delete(call.id);
    if (last) send(conn, last);
  }

  function replyError(conn: Conn, id: number | null, err: unknown): void {
    send(conn, { t: "res", id, error: toBerthError(err).toJSON() });
  }

  function onRequest(conn: Conn, msg: Record<string, unknown>): void {
    const { id, route: routeName, body, timeoutMs } = msg;
    if (!Number.isSafeInteger(id) || (id as number) < 0) {
      return replyError(conn, null, new BerthError("invalidArgument", `request id must be a non-negative integer, got ${describe(id)}`));
    }
    const rid = id as number;
    if (typeof routeName !== "string") {
      return replyError(conn, rid, new BerthError("invalidArgument", `request route must be a string, got ${describe(routeName)}`));
    }
    if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !(timeoutMs > 0))) {
      return replyError(conn, rid, new BerthError("invalidArgument", `request timeoutMs must be a positive number, got ${describe(timeoutMs)}`));
    }
    if (!conn.greeted) {
      return replyError(conn, rid, new BerthError("invalidState", `call ${routeName} before the handshake: send {t:"hello", v:${PROTOCOL_VERSION}} first`));
    }
    // Own properties only: "constructor" or "__proto__" must not resolve to something callable.
    const route = Object.hasOwn(routes, routeName) ? routes[routeName] : undefined;
    if (!route) return replyError(conn, rid, new BerthError("unsupported", `unknown route "${routeName.slice(0, 64)}"`));
    if (conn.calls.has(rid)) {
      return replyError(conn, rid, new BerthError("invalidArgument", `request id ${rid} is already in flight on this connection`));
    }
    if (conn.calls.size >= maxInFlight) {
      return replyError(conn, rid, new BerthError("invalidState", `too many calls in flight on this connection (limit ${maxInFlight})`));
    }

    const call: Call = { id: rid, route: routeName, controller: undefined, abortReason: undefined, timer: undefined, done: false };
    conn.calls.set(rid, call);
    const deadline = Math.min(route.deadlineMs ?? (route.kind === "unary" ? defaultDeadline : Infinity), (timeoutMs as number | undefined) ?? Infinity);
    if (Number.isFinite(deadline)) {
      call.timer = setTimeout(() => {
        const err = new BerthError("timeout", `${routeName} did not finish within its ${deadline} ms deadline`);
        finish(conn, call, route.kind === "unary" ? { t: "res", id: rid, error: err.toJSON() } : { t: "end", id: rid, error: err.toJSON() });
        abortCall(call, err);
      }, Math.min(deadline, MAX_TIMER_MS));
    }
    runCall(route, call, body, conn.peer, {
      send: (frame, rawItem) => send(conn, frame, rawItem),
      finish: (last) => finish(conn, call, last),
      drained: () => drained(conn, call),
    });
  }

  function onCancel(conn: Conn, msg: Record<string, unknown>): void {
    const call = typeof msg.id === "number" ? conn.calls.get(msg.id) : undefined;
    if (!call) return; // already finished: the race is normal, nothing to say
    finish(conn, call, undefined);
    abortCall(call, new BerthError("cancelled", `${call.route} was cancelled by the client`));
  }

  function onFrame(conn: Conn, body: Buffer): boolean {
    let msg: unknown;
    try {
      msg = conn.codec.unpack(body);
    } catch (err) {
      replyError(conn, null, new BerthError("invalidArgument", `frame is not valid msgpack: ${(err as Error).message}`));
      return !conn.closed;
    }
    if (!isPlainObject(msg)) {
      replyError(conn, null, new BerthError("invalidArgument", `frame must be a msgpack map, got ${describe(msg)}`));
      return !conn.closed;
    }
    switch (msg.t) {
      case "req":
        onRequest(conn, msg);
        break;
      case "cancel":
        onCancel(conn, msg);
        break;
      case "hello":
        if (msg.v !== PROTOCOL_VERSION) {
          fatal(conn, "unsupported", `protocol version ${describe(msg.v)} is not supported; this server speaks version ${PROTOCOL_VERSION}`);
        } else if (conn.greeted) {
          replyError(conn, null, new BerthError("invalidState", "hello sent twice on one connection"));
        } else {
          conn.greeted = true;
          send(conn, { t: "hello", v: PROTOCOL_VERSION, maxFrameBytes, peer: conn.peer });
        }
        break;
      default: {
        const id = Number.isSafeInteger(msg.id) ? (msg.id as number) : null;
        replyError(conn, id, new BerthError("invalidArgument", `frame type must be "hello", "req" or "cancel", got ${describe(msg.t)}`));
      }
    }
    return !conn.closed;
  }

  function onConnection(socket: Socket): void {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    let peer: Peer;
    try {
      if (typeof fd !== "number" || fd < 0) throw new Error("the accepted socket has no file descriptor");
      peer = peercred(fd);
    } catch (err) {
      socket.destroy(); // no credentials, no conversation
      return;
    }
    const conn: Conn = { socket, peer, codec: newCodec(), reader: new FrameReader(maxFrameBytes), greeted: false, calls: new Map(), closed: false, drained: undefined };
    socket.on("error", () => {}); // resets from vanishing clients are expected; "close" cleans up
    socket.on("close", () => drop(conn, new BerthError("cancelled", "the client disconnected", "clientGone")));
    if (!allowUids.has(peer.uid) && !allowGids.has(peer.gid)) {
      conns.add(conn);
      socket.on("data", () => {}); // drain until the client hangs up
      fatal(conn, "unsupported", `permission denied: uid ${peer.uid} (gid ${peer.gid}, pid ${peer.pid}) may not use this socket; ` +
        `allowed uids [${[...allowUids].join(", ")}], gids [${[...allowGids].join(", ")}]`);
      return;
    }
    if (conns.size >= maxConnections) {
      // Refused with a frame the client can read, not left to fail at connect or hang.
      conns.add(conn);
      socket.on("data", () => {}); // drain until the client hangs up
      fatal(conn, "invalidState", `too many connections: the server already holds ${conns.size - 1} (limit ${maxConnections}); retry later`);
      return;
    }
    conns.add(conn);
    const hello = setTimeout(() => {
      if (!conn.greeted) fatal(conn, "timeout", `no hello within ${handshakeTimeout} ms of connecting`);
    }, handshakeTimeout);
    hello.unref();
    socket.on("close", () => clearTimeout(hello));
    socket.on("data", (chunk: Buffer) => {
      if (conn.closed) return;
      // Replies to the frames of one chunk leave in one writev instead of a syscall each.
      socket.cork();
      try {
        conn.reader.push(chunk, (body) => onFrame(conn, body));
      } catch (err) {
        if (!(err instanceof FrameTooLarge)) throw err;
        fatal(conn, "invalidArgument", err.message);
      } finally {
        socket.uncork();
      }
    });
  }

  const server: Server = createServer(onConnection);
  const tempPath = temporaryName(opts.socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ path: tempPath, backlog: opts.backlog ?? 4096 }, () => resolve());
  });
  try {
    publish(tempPath, opts.socketPath, opts.socketMode ?? 0o660, opts.socketGid);
  } catch (err) {
    server.close();
    throw err;
  }
  const identity = fileIdentity(opts.socketPath);

  let closing: Promise<void> | undefined;
  return {
    socketPath: opts.socketPath,
    inFlight: () => [...conns].reduce((n, c) => n + c.calls.size, 0),
    connections: () => conns.size,
    queuedBytes: () => [...conns].reduce((n, c) => n + c.socket.writableLength, 0),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        removeIfOurs(opts.socketPath, identity);
        for (const conn of [...conns]) drop(conn, new BerthError("interrupted", "the server is shutting down"));
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
