// Issue #11 point 8: the daemon's IPC resource bounds, against a real daemon (fake driver, so
// thousands of calls stay quick). Clients that never read cannot hold the daemon's memory, 3,000
// simultaneous connects are each accepted or refused with a frame, a duplicate in-flight id is
// refused, docs/ipc.md's routes table is the schema the routes check, and 20 clients × 50
// run/stop/rm cycles leave no error and no illegal transition.
import fs from "node:fs";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bodyText, ROUTE_SCHEMAS, type RouteName } from "../src/daemon/schemas.js";
import { containerIdOf } from "../src/events/catalogue.js";
import { toBerthError } from "../src/model/errors.js";
import { IpcClient } from "../src/ipc/client.js";
import { encodeFrame, FrameReader, newCodec } from "../src/ipc/frame.js";
import { auditTransitions } from "../src/projections/transitions.js";
import { socketPath } from "../src/host/root-layout.js";
import { journalEvents, tempRoot, withDaemon, type DaemonFrame } from "./helpers/daemon.js";

const MIB = 1024 * 1024;

function withFakeDaemon(fn: (d: DaemonFrame) => Promise<void>): Promise<void> {
  // BERTH_DEBUG_ROUTES: the daemon's debugMemory route.
  return withDaemon(tempRoot(), fn, { driver: "fake", env: { BERTH_DEBUG_ROUTES: "1" } });
}

/** A raw connection that says hello and collects every frame the server sends. */
function raw(socketPath: string): Promise<{ socket: Socket; frames: Record<string, unknown>[]; send(frame: unknown): void; closed: Promise<void> }> {
  const codec = newCodec();
  const reader = new FrameReader(64 * MIB);
  const frames: Record<string, unknown>[] = [];
  const socket = createConnection(socketPath);
  socket.on("error", () => {});
  socket.on("data", (d: Buffer) => reader.push(d, (body) => void frames.push(codec.unpack(body))));
  const closed = new Promise<void>((r) => socket.once("close", () => r()));
  const send = (frame: unknown) => socket.write(encodeFrame(codec, frame));
  return new Promise((resolve, reject) => {
    socket.once("connect", () => {
      send({ t: "hello", v: 1 });
      resolve({ socket, frames, send, closed });
    });
    socket.once("error", reject);
  });
}

const until = async (what: string, fn: () => boolean) => {
  for (let i = 0; i < 3000 && !fn(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(fn(), what);
};

type Memory = { rss: number; heapUsed: number; external: number; arrayBuffers: number; connections: number; queuedBytes: number };
const held = (m: Memory) => m.heapUsed + m.external + m.arrayBuffers;

test("docs/ipc.md's routes table shows each route's schema, and every schema is in it", () => {
  const doc = fs.readFileSync(join(import.meta.dirname, "..", "docs", "ipc.md"), "utf8");
  const rows = new Map<string, string>();
  for (const m of doc.matchAll(/^\| (\w+) \| (?:unary|stream) \| (`[^`]*`) \|/gm)) rows.set(m[1]!, m[2]!);
  assert.equal([...rows.keys()].sort(), Object.keys(ROUTE_SCHEMAS).sort(), "one row per route");
  for (const route of Object.keys(ROUTE_SCHEMAS) as RouteName[]) assert.is(rows.get(route), bodyText(route), `the ${route} row`);
});

test("clients that never read their replies: the total queue is capped, and after they are dropped the daemon's memory is back near its baseline", () =>
  withFakeDaemon(async (d) => {
    const ipc = await d.ipc();
    try {
      // 12 containers with 80 KB of labels each: one `list` reply is about 1 MB.
      const labels = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`l${i}`, "x".repeat(10_000)]));
      for (let i = 0; i < 12; i++) await ipc.call("create", { id: `m${i}`, config: { init: { args: ["sleep", "1"] }, labels } });
      const reply = (await ipc.call<unknown[]>("list", { all: true })).length;
      assert.is(reply, 12);
      const before = await ipc.call<Memory>("debugMemory");

      // 8 clients × 12 list calls, never read: ~12 MB each stays under the 16 MiB per-connection
      // limit, but ~96 MB together is over the 64 MiB total, so the furthest behind are dropped.
      const clients = await Promise.all(Array.from({ length: 8 }, () => raw(socketPath(d.root))));
      for (const c of clients) {
        c.socket.pause();
        for (let i = 0; i < 12; i++) c.send({ t: "req", id: i + 1, route: "list", body: { all: true } });
      }
      // The server's own counters say when it has dropped some (a paused client cannot see it).
      let peak = await ipc.call<Memory>("debugMemory");
      for (let i = 0; i < 3000 && peak.connections > 8; i++) {
        await new Promise((r) => setTimeout(r, 10));
        peak = await ipc.call<Memory>("debugMemory");
      }
      const dropped = 9 - peak.connections;
      assert.ok(dropped > 0, "the server dropped some of the clients that do not read");
      assert.ok(peak.queuedBytes <= 66 * MIB, `${peak.queuedBytes} bytes queued over all connections: the 64 MiB cap plus at most one reply`);
      for (const c of clients) c.socket.destroy();
      let after = await ipc.call<Memory>("debugMemory");
      for (let i = 0; i < 3000 && after.connections > 1; i++) {
        await new Promise((r) => setTimeout(r, 10));
        after = await ipc.call<Memory>("debugMemory");
      }
      assert.is(after.connections, 1, "only our own connection is left");
      // V8 frees the backing stores of collected buffers on a background thread, so the
      // accounting lags the GC a little: read again until it has caught up, or give up.
      for (let i = 0; i < 300 && held(after) - held(before) >= 32 * MIB; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await ipc.call<Memory>("debugMemory");
      }
      console.log(`non-reading clients: ${dropped} of 8 dropped by the server; held ${(held(before) / MIB).toFixed(1)} → ${(held(peak) / MIB).toFixed(1)} → ${(held(after) / MIB).toFixed(1)} MiB, rss ${(before.rss / MIB).toFixed(1)} → ${(peak.rss / MIB).toFixed(1)} → ${(after.rss / MIB).toFixed(1)} MiB`);
      assert.ok(held(after) - held(before) < 32 * MIB, `heapUsed + external + arrayBuffers ${held(before)} → ${held(after)}`);
      assert.equal(await ipc.call("ping"), { pong: true, pid: d.daemon.child.pid }, "still serving");
    } finally {
      ipc.close();
    }
  }));

test("3,000 simultaneous connects: each is accepted or refused with a frame, none fails at connect", () =>
  withFakeDaemon(async (d) => {
    const socket = socketPath(d.root);
    // Keep the daemon's event loop busy while the connects arrive, as a loaded daemon is: 200
    // pipelined `list` calls with ~1 MB replies, read and discarded. The connects then wait in
    // the listen backlog, which must hold them all.
    const ipc = await d.ipc();
    const labels = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`l${i}`, "x".repeat(10_000)]));
    for (let i = 0; i < 12; i++) await ipc.call("create", { id: `b${i}`, config: { init: { args: ["sleep", "1"] }, labels } });
    ipc.close();
    const busy = await raw(socket);
    for (let i = 0; i < 200; i++) busy.send({ t: "req", id: i + 1, route: "list", body: { all: true } });
    const results = await Promise.all(Array.from({ length: 3000 }, () => IpcClient.connect(socket, { timeoutMs: 120_000 }).then((c) => c, (err) => toBerthError(err))));
    const accepted = results.filter((r) => r instanceof IpcClient) as IpcClient[];
    const refused = results.filter((r) => !(r instanceof IpcClient) && r.code === "invalidState" && /too many connections/.test(r.message));
    const other = results.filter((r) => !(r instanceof IpcClient) && !refused.includes(r));
    console.log(`3000 connects: ${accepted.length} accepted, ${refused.length} refused with a frame, ${other.length} other`);
    assert.equal(other.map((e) => `${(e as Error).message}`).slice(0, 3), [], "no connect failed otherwise");
    assert.is(accepted.length + refused.length, 3000);
    assert.ok(accepted.length >= 1000, `${accepted.length} accepted`);
    for (const c of accepted) c.close();
    busy.socket.destroy();
    const fresh = await IpcClient.connect(socket);
    assert.is((await fresh.call<{ pong: boolean }>("ping")).pong, true);
    fresh.close();
  }));

test("a request id already in flight on the connection is refused with invalidArgument; the first call carries on", () =>
  withFakeDaemon(async (d) => {
    const c = await raw(socketPath(d.root));
    try {
      c.send({ t: "req", id: 7, route: "events", body: { follow: true } });
      c.send({ t: "req", id: 7, route: "events", body: { follow: true } });
      await until("a reply to the duplicate", () => c.frames.some((f) => f.t === "res"));
      const res = c.frames.find((f) => f.t === "res") as { id: number; error: { code: string; message: string } };
      assert.is(res.id, 7);
      assert.is(res.error.code, "invalidArgument");
      assert.match(res.error.message, /already in flight/);
      assert.ok(!c.frames.some((f) => f.t === "end"), "the first stream is still open");
    } finally {
      c.socket.destroy();
    }
  }));

test("20 clients × 50 run -d / stop / rm cycles: no error, and no container's events hold an illegal transition", () =>
  withFakeDaemon(async (d) => {
    const errors: string[] = [];
    await Promise.all(Array.from({ length: 20 }, async (_, client) => {
      for (let i = 0; i < 50; i++) {
        const id = `load-${client}-${i}`;
        const rc = await d.client(id);
        try {
          await rc.createContainer({ init: { args: ["sleep", "1000"] } });
          await rc.bootstrap();
          await rc.startProcess(id);
          await rc.stop({ timeoutInSeconds: 1 });
          await rc.delete();
        } catch (err) {
          errors.push(`${id}: ${toBerthError(err).code}: ${toBerthError(err).message}`);
        } finally {
          rc.close();
        }
      }
    }));
    assert.equal(errors.slice(0, 5), [], `${errors.length} errors`);
    const events = await journalEvents(d.root);
    const streams = new Map<string, typeof events>();
    for (const e of events) if (containerIdOf(e.streamId) !== undefined) streams.set(e.streamId, [...(streams.get(e.streamId) ?? []), e]);
    assert.is(streams.size, 1000);
    for (const [stream, list] of streams) {
      assert.equal(auditTransitions(list), [], stream);
      assert.is(list.at(-1)!.type, "ContainerDeleted", stream);
    }
  }));

test.run();
