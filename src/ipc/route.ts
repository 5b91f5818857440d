// One call as the IPC server runs it: the handler types routes are written against, and a
// call's life from its accepted request to its last frame. server.ts owns the socket, the
// connections, their frames and queues; this file owns what runs between a request and its
// reply, and reaches its connection only through CallIo.
import { toBerthError, type BerthError } from "../model/errors.js";
import type { Peer, ServerFrame } from "./frame.js";

export interface CallContext {
  peer: Peer;
  signal: AbortSignal;
  route: string;
}
export type UnaryHandler = (body: unknown, ctx: CallContext) => unknown | Promise<unknown>;
/**
 * Resolving sends the end frame; throwing sends an end frame carrying the error. `emit` returns
 * a promise while the connection's queue is over STREAM_PAUSE_BYTES: a handler that awaits it
 * produces no faster than its client reads (backpressure); one that does not is dropped with its
 * connection at maxBufferedBytes. `emitRaw` sends bytes that already are one msgpack value as the
 * item, as they are (a relay of another stream: frame.ts, itemPayload).
 */
export type StreamHandler = (
  body: unknown,
  ctx: CallContext & { emit(item: unknown): Promise<void> | undefined; emitRaw(item: Buffer): Promise<void> | undefined },
) => Promise<void>;
/** deadlineMs on a stream is optional: followed streams run until cancelled or disconnected. */
export type Route =
  | { kind: "unary"; handler: UnaryHandler; deadlineMs?: number }
  | { kind: "stream"; handler: StreamHandler; deadlineMs?: number };

export interface Call {
  id: number;
  route: string;
  /** Created on the handler's first read of ctx.signal: an AbortSignal costs ~4 µs, most reads never need one. */
  controller: AbortController | undefined;
  abortReason: BerthError | undefined;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

export function abortCall(call: Call, reason: BerthError): void {
  if (call.abortReason) return;
  call.abortReason = reason;
  call.controller?.abort(reason);
}

export function signalOf(call: Call): AbortSignal {
  if (!call.controller) {
    call.controller = new AbortController();
    if (call.abortReason) call.controller.abort(call.abortReason);
  }
  return call.controller.signal;
}

/** What a call needs of its connection. */
export interface CallIo {
  /** Sends one frame of the call; `rawItem` is an item's bytes, sent as they are. */
  send(frame: ServerFrame, rawItem?: Buffer): void;
  /** Ends the call once, then sends its last frame (reply or end) if there is one. */
  finish(last: ServerFrame | undefined): void;
  /** What a stream's emit returns: a promise while the connection's queue is over STREAM_PAUSE_BYTES. */
  drained(): Promise<void> | undefined;
}

/** Runs the route's handler for an accepted call: a unary reply, or a stream's items and its end. */
export function runCall(route: Route, call: Call, body: unknown, peer: Peer, io: CallIo): void {
  const rid = call.id;
  const routeName = call.route;
  if (route.kind === "unary") {
    const ctx: CallContext = { peer, route: routeName, get signal() { return signalOf(call); } };
    const ok = (result: unknown) => io.finish({ t: "res", id: rid, result });
    const fail = (err: unknown) => {
      io.finish({ t: "res", id: rid, error: toBerthError(err).toJSON() });
    };
    try {
      const result = route.handler(body, ctx);
      // Synchronous results reply without a promise hop: the common case for state reads.
      if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
        (result as Promise<unknown>).then(ok, fail);
      } else ok(result);
    } catch (err) {
      fail(err);
    }
    return;
  }
  const emit = (item: unknown) => {
    if (call.done) return undefined;
    io.send({ t: "item", id: rid, item });
    return io.drained();
  };
  const emitRaw = (item: Buffer) => {
    if (call.done) return undefined;
    io.send({ t: "item", id: rid, item: undefined }, item);
    return io.drained();
  };
  const ctx = { peer, route: routeName, emit, emitRaw, get signal() { return signalOf(call); } };
  let running: Promise<void>;
  try {
    running = Promise.resolve(route.handler(body, ctx));
  } catch (err) {
    running = Promise.reject(err);
  }
  running.then(
    () => io.finish({ t: "end", id: rid }),
    (err) => {
      io.finish({ t: "end", id: rid, error: toBerthError(err).toJSON() });
    },
  );
}
