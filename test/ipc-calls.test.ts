// Acceptance 3.1 (mechanics): concurrent calls with out-of-order replies, streams, cancellation,
// client and server deadlines, and clients that vanish mid-call. "Freed" is checked twice:
// the handler's AbortSignal fires, and the server no longer counts the call as in flight.
import { join } from "node:path";
import { setImmediate as tick } from "node:timers/promises";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BerthError } from "../src/model/errors.js";
import { IpcClient } from "../src/ipc/client.js";
import { listen, type IpcServer, type Route } from "../src/ipc/server.js";
import { reap, spawnChild, type Child } from "./helpers/ipc-procs.js";
import { tempDir } from "./helpers/tmp.js";
import { rejection } from "./helpers/errors.js";

/** Resolves with the abort reason when the handler's signal fires. */
function aborted(signal: AbortSignal): Promise<BerthError> {
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(signal.reason as BerthError), { once: true }));
}

/** A gate the test opens to learn that a handler has started and to capture its signal. */
function started<T>(): { wait: Promise<T>; open(v: T): void } {
  let open!: (v: T) => void;
  return { wait: new Promise<T>((r) => (open = r)), open };
}

async function withServer(routes: Record<string, Route>, fn: (socket: string, server: IpcServer) => Promise<void>, extra = {}): Promise<void> {
  const dir = tempDir("berth-ipc-");
  const socket = join(dir.path, "run", "berth.sock");
  const server = await listen({ socketPath: socket, routes, ...extra });
  try {
    await fn(socket, server);
  } finally {
    await server.close();
    dir.remove();
  }
}

/** Waits (by yielding to the event loop) until the server has processed what is in its socket. */
async function settled(server: IpcServer, inFlight: number): Promise<void> {
  while (server.inFlight() !== inFlight) await tick();
}

test("many calls in flight on one connection: each reply reaches its own caller, in completion order", async () => {
  // Each call is released by the test in reverse order of issue, so replies must come back out of order.
  const gates = new Map<number, () => void>();
  const arrived = started<void>();
  const routes: Record<string, Route> = {
    hold: {
      kind: "unary",
      handler: (body) =>
        new Promise((resolve) => {
          const n = (body as { n: number }).n;
          gates.set(n, () => resolve({ n, doubled: n * 2 }));
          if (gates.size === 50) arrived.open();
        }),
    },
  };
  await withServer(routes, async (socket) => {
    const c = await IpcClient.connect(socket);
    try {
      const order: number[] = [];
      const calls = Array.from({ length: 50 }, (_, n) =>
        c.call<{ n: number; doubled: number }>("hold", { n }).then((r) => {
          assert.is(r.n, n);
          assert.is(r.doubled, n * 2);
          order.push(n);
        }),
      );
      await arrived.wait;
      for (let n = 49; n >= 0; n--) {
        gates.get(n)!();
        await tick();
      }
      await Promise.all(calls);
      assert.equal(order, Array.from({ length: 50 }, (_, i) => 49 - i));
    } finally {
      c.close();
    }
  });
});

test("a stream delivers its items in order and ends; a failing stream ends with its error", async () => {
  const routes: Record<string, Route> = {
    count: { kind: "stream", handler: async (b, ctx) => { for (let i = 0; i < (b as { n: number }).n; i++) ctx.emit(i); } },
    broken: { kind: "stream", handler: async (_b, ctx) => { ctx.emit("first"); throw new BerthError("invalidState", "cannot follow: container web is deleted"); } },
    crash: { kind: "stream", handler: async () => { throw new TypeError("boom"); } },
  };
  await withServer(routes, async (socket, server) => {
    const c = await IpcClient.connect(socket);
    try {
      const items: number[] = [];
      for await (const i of c.stream<number>("count", { n: 2000 })) items.push(i);
      assert.equal(items, Array.from({ length: 2000 }, (_, i) => i));
      const seen: unknown[] = [];
      const err = await rejection((async () => { for await (const x of c.stream("broken")) seen.push(x); })());
      assert.equal(seen, ["first"]);
      assert.is(err.code, "invalidState");
      assert.is(err.message, "cannot follow: container web is deleted");
      const crash = await rejection((async () => { for await (const _ of c.stream("crash")) { /* none */ } })());
      assert.is(crash.code, "internalError");
      assert.is(crash.message, "boom");
      assert.is(server.inFlight(), 0);
    } finally {
      c.close();
    }
  });
});

test("cancelling a stream aborts the server handler and frees the call; the connection stays usable", async () => {
  const running = started<AbortSignal>();
  const routes: Record<string, Route> = {
    follow: {
      kind: "stream",
      handler: async (_b, ctx) => {
        ctx.emit("tick");
        running.open(ctx.signal);
        await aborted(ctx.signal);
      },
    },
    ping: { kind: "unary", handler: () => "pong" },
  };
  await withServer(routes, async (socket, server) => {
    const c = await IpcClient.connect(socket);
    try {
      const s = c.stream<string>("follow");
      const it = s[Symbol.asyncIterator]();
      assert.equal(await it.next(), { value: "tick", done: false });
      const signal = await running.wait;
      assert.is(server.inFlight(), 1);
      s.cancel();
      // The cancel frame travels to the server; its abort is what we wait for.
      const reason = signal.aborted ? (signal.reason as BerthError) : await aborted(signal);
      assert.is(reason.code, "cancelled");
      assert.is(server.inFlight(), 0);
      assert.equal(await it.next(), { value: undefined, done: true });
      assert.is(await c.call("ping"), "pong");
    } finally {
      c.close();
    }
  });
});

test("leaving a for-await loop early cancels the stream on the server", async () => {
  const running = started<AbortSignal>();
  const routes: Record<string, Route> = {
    follow: { kind: "stream", handler: async (_b, ctx) => { running.open(ctx.signal); ctx.emit(1); await aborted(ctx.signal); } },
  };
  await withServer(routes, async (socket, server) => {
    const c = await IpcClient.connect(socket);
    try {
      for await (const _ of c.stream("follow")) break;
      const signal = await running.wait;
      if (!signal.aborted) await aborted(signal);
      assert.is((signal.reason as BerthError).code, "cancelled");
      assert.is(server.inFlight(), 0);
    } finally {
      c.close();
    }
  });
});

test("a client timeout rejects with timeout and tells the server, which aborts the handler", async () => {
  const running = started<AbortSignal>();
  const routes: Record<string, Route> = {
    hang: { kind: "unary", handler: (_b, ctx) => { running.open(ctx.signal); return aborted(ctx.signal).then(() => "too late"); } },
  };
  await withServer(routes, async (socket, server) => {
    const c = await IpcClient.connect(socket);
    try {
      // The server's own deadline (60 s) is far away: only the client's 100 ms timeout can end this call.
      const err = await rejection(c.call("hang", {}, { timeoutMs: 100 }));
      assert.is(err.code, "timeout");
      assert.match(err.message, /hang got no reply within 100 ms/);
      const signal = await running.wait;
      if (!signal.aborted) await aborted(signal);
      assert.is(server.inFlight(), 0);
    } finally {
      c.close();
    }
  }, { defaultDeadlineMs: 60_000 });
});

test("the server deadline answers timeout and aborts the handler even when the client would wait longer", async () => {
  const running = started<AbortSignal>();
  const routes: Record<string, Route> = {
    hang: { kind: "unary", deadlineMs: 100, handler: (_b, ctx) => { running.open(ctx.signal); return aborted(ctx.signal).then(() => "too late"); } },
  };
  await withServer(routes, async (socket, server) => {
    const c = await IpcClient.connect(socket, { timeoutMs: 60_000 });
    try {
      const err = await rejection(c.call("hang"));
      assert.is(err.code, "timeout");
      assert.match(err.message, /hang did not finish within its 100 ms deadline/);
      const signal = await running.wait;
      assert.ok(signal.aborted);
      assert.is((signal.reason as BerthError).code, "timeout");
      assert.is(server.inFlight(), 0);
    } finally {
      c.close();
    }
  });
});

test("a client process killed mid-stream: the server aborts the handler and frees the call and connection", async () => {
  const running = started<AbortSignal>();
  const routes: Record<string, Route> = {
    ticks: { kind: "stream", handler: async (_b, ctx) => { ctx.emit({ n: 1 }); running.open(ctx.signal); await aborted(ctx.signal); } },
  };
  let child: Child | undefined;
  try {
    await withServer(routes, async (socket, server) => {
      child = spawnChild(["stream-client", socket, "ticks"]);
      assert.equal((await child.line()).first, { n: 1 });
      const signal = await running.wait;
      assert.is(server.inFlight(), 1);
      await child.kill("SIGKILL");
      const reason = signal.aborted ? (signal.reason as BerthError) : await aborted(signal);
      assert.is(reason.code, "cancelled");
      assert.match(reason.message, /client disconnected/);
      assert.is(server.inFlight(), 0);
      while (server.connections() !== 0) await tick();
    });
  } finally {
    await reap(child);
  }
});

test("a client that closes with a unary call in flight aborts that handler; other connections are untouched", async () => {
  const running = started<AbortSignal>();
  const routes: Record<string, Route> = {
    hang: { kind: "unary", handler: (_b, ctx) => { running.open(ctx.signal); return aborted(ctx.signal); } },
    ping: { kind: "unary", handler: () => "pong" },
  };
  await withServer(routes, async (socket, server) => {
    const a = await IpcClient.connect(socket);
    const b = await IpcClient.connect(socket);
    try {
      const pending = a.call("hang");
      const signal = await running.wait;
      a.close();
      assert.is((await rejection(pending)).code, "cancelled");
      if (!signal.aborted) await aborted(signal);
      await settled(server, 0);
      assert.is(await b.call("ping"), "pong");
    } finally {
      a.close();
      b.close();
    }
  });
});

test("a server closing under a client fails its outstanding calls with interrupted", async () => {
  const dir = tempDir("berth-ipc-");
  const socket = join(dir.path, "run", "berth.sock");
  const running = started<void>();
  const server = await listen({ socketPath: socket, routes: { hang: { kind: "unary", handler: () => (running.open(), new Promise(() => {})) } } });
  const c = await IpcClient.connect(socket);
  try {
    const pending = c.call("hang");
    await running.wait;
    await server.close();
    assert.is((await rejection(pending)).code, "interrupted");
    assert.is((await rejection(c.call("hang"))).code, "interrupted");
  } finally {
    c.close();
    await server.close();
    dir.remove();
  }
});

test("handler failures that are not BerthErrors become internalError; results too large for a frame are refused", async () => {
  const routes: Record<string, Route> = {
    oops: { kind: "unary", handler: () => { throw new RangeError("index out of range"); } },
    huge: { kind: "unary", handler: () => "x".repeat(2048) },
    ping: { kind: "unary", handler: () => "pong" },
  };
  await withServer(routes, async (socket) => {
    const c = await IpcClient.connect(socket);
    try {
      const err = await rejection(c.call("oops"));
      assert.is(err.code, "internalError");
      assert.is(err.message, "index out of range");
      const big = await rejection(c.call("huge"));
      assert.is(big.code, "internalError");
      assert.match(big.message, /over the frame limit of 1024/);
      assert.is(await c.call("ping"), "pong");
    } finally {
      c.close();
    }
  }, { maxFrameBytes: 1024 });
});

test("a handler that first reads ctx.signal after its deadline still sees it aborted", async () => {
  let release!: () => void;
  const late = new Promise<void>((r) => (release = r));
  const seen = started<AbortSignal>();
  const routes: Record<string, Route> = {
    lazy: { kind: "unary", deadlineMs: 50, handler: async (_b, ctx) => { await late; seen.open(ctx.signal); return "late"; } },
  };
  await withServer(routes, async (socket) => {
    const c = await IpcClient.connect(socket);
    try {
      assert.is((await rejection(c.call("lazy"))).code, "timeout");
      release();
      const signal = await seen.wait;
      assert.ok(signal.aborted);
      assert.is((signal.reason as BerthError).code, "timeout");
    } finally {
      c.close();
    }
  });
});

test("a client that stops reading a stream is dropped once the server has buffered its limit", async () => {
  const done = started<BerthError>();
  const routes: Record<string, Route> = {
    flood: {
      kind: "stream",
      handler: async (_b, ctx) => {
        const line = "x".repeat(200);
        for (let i = 0; !ctx.signal.aborted; i++) {
          ctx.emit({ i, line });
          if (i % 64 === 0) await tick();
        }
        done.open(ctx.signal.reason as BerthError);
      },
    },
  };
  await withServer(routes, async (socket, server) => {
    const c = await IpcClient.connect(socket);
    try {
      const s = c.stream<{ i: number }>("flood"); // never read: the client pauses its socket
      const reason = await done.wait;
      assert.is(reason.code, "cancelled");
      assert.match(reason.message, /not reading/);
      assert.is(server.inFlight(), 0);
      let last = -1;
      const err = await rejection((async () => { for await (const item of s) last = item.i; })());
      assert.ok(last >= 0, "items received before the drop are still delivered, in order");
      assert.ok(err.code === "cancelled" || err.code === "interrupted", err.code);
    } finally {
      c.close();
    }
  }, { maxBufferedBytes: 256 * 1024 });
});

test.run();
