// The wire protocol as docs/ipc.md states it, checked with raw sockets: framing, the
// handshake, and the server's answer to each kind of malformed frame.
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BerthError } from "../src/model/errors.js";
import { requireFields } from "../src/ipc/fields.js";
import { FrameReader, FrameTooLarge, encodeFrame, newCodec } from "../src/ipc/frame.js";
import { listen, type Route } from "../src/ipc/server.js";
import { tempDir } from "./helpers/tmp.js";

const codec = newCodec();
const routes: Record<string, Route> = { ping: { kind: "unary", handler: () => "pong" } };

/** A raw connection that collects decoded server frames and notices the close. */
function raw(socket: string): Promise<{ s: Socket; send(v: unknown): void; next(): Promise<any>; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s = createConnection(socket);
    const frames: unknown[] = [];
    const waiters: Array<(v: unknown) => void> = [];
    const reader = new FrameReader(1 << 20);
    s.on("data", (d: Buffer) =>
      reader.push(d, (body) => {
        const v = codec.unpack(body);
        const w = waiters.shift();
        if (w) w(v);
        else frames.push(v);
      }),
    );
    s.on("error", () => {});
    const closed = new Promise<void>((r) => s.once("close", () => r()));
    s.once("connect", () =>
      resolve({
        s,
        closed,
        send: (v) => s.write(Buffer.isBuffer(v) ? v : encodeFrame(codec, v)),
        next: () => (frames.length ? Promise.resolve(frames.shift()) : new Promise((r) => waiters.push(r))),
      }),
    );
    s.once("error", reject);
  });
}

async function withServer(fn: (socket: string) => Promise<void>): Promise<void> {
  const dir = tempDir("berth-ipc-");
  const socket = join(dir.path, "run", "berth.sock");
  const server = await listen({ socketPath: socket, routes });
  try {
    await fn(socket);
  } finally {
    await server.close();
    dir.remove();
  }
}

test("FrameReader reassembles frames split at every byte boundary", () => {
  const frames = [encodeFrame(codec, { a: 1 }), encodeFrame(codec, "x".repeat(300)), encodeFrame(codec, [1, 2, 3])];
  const all = Buffer.concat(frames);
  for (let cut = 0; cut <= all.length; cut++) {
    const got: unknown[] = [];
    const r = new FrameReader(1024);
    r.push(all.subarray(0, cut), (b) => void got.push(codec.unpack(b)));
    r.push(all.subarray(cut), (b) => void got.push(codec.unpack(b)));
    assert.equal(got, [{ a: 1 }, "x".repeat(300), [1, 2, 3]]);
    assert.is(r.pendingBytes, 0);
  }
});

test("FrameReader rejects an oversized declared length from the header alone", () => {
  const r = new FrameReader(1024);
  const h = Buffer.alloc(4);
  h.writeUInt32BE(0xffff_ffff);
  r.push(h.subarray(0, 2), () => assert.unreachable());
  assert.throws(() => r.push(h.subarray(2), () => assert.unreachable()), (e: unknown) => e instanceof FrameTooLarge && e.declared === 0xffff_ffff);
});

test("handshake: the server answers hello with its version, limit and the kernel's view of the peer", async () => {
  await withServer(async (socket) => {
    const c = await raw(socket);
    try {
      c.send({ t: "hello", v: 1 });
      assert.equal(await c.next(), { t: "hello", v: 1, maxFrameBytes: 4 * 1024 * 1024, peer: { uid: 0, gid: 0, pid: process.pid } });
      c.send({ t: "req", id: 7, route: "ping" });
      assert.equal(await c.next(), { t: "res", id: 7, result: "pong" });
    } finally {
      c.s.destroy();
    }
  });
});

test("a request before hello gets invalidState; a wrong protocol version is fatal", async () => {
  await withServer(async (socket) => {
    const c = await raw(socket);
    try {
      c.send({ t: "req", id: 1, route: "ping" });
      const r = await c.next();
      assert.is(r.id, 1);
      assert.is(r.error.code, "invalidState");
      assert.match(r.error.message, /before the handshake/);
      c.send({ t: "hello", v: 99 });
      assert.equal(await c.next(), { t: "fatal", code: "unsupported", message: "protocol version number 99 is not supported; this server speaks version 1" });
      await c.closed;
    } finally {
      c.s.destroy();
    }
  });
});

test("malformed bodies get invalidArgument replies and the connection carries on; a bad length closes only that connection", async () => {
  await withServer(async (socket) => {
    const c = await raw(socket);
    const other = await raw(socket);
    try {
      c.send({ t: "hello", v: 1 });
      await c.next();
      other.send({ t: "hello", v: 1 });
      await other.next();

      c.send(Buffer.from([0, 0, 0, 2, 0xc1, 0xc1])); // 0xc1 is never valid msgpack
      let r = await c.next();
      assert.equal([r.t, r.id, r.error.code], ["res", null, "invalidArgument"]);
      assert.match(r.error.message, /not valid msgpack/);
      c.send(["not", "a", "map"]);
      r = await c.next();
      assert.match(r.error.message, /must be a msgpack map, got an array/);
      c.send({ t: "req", id: "seven", route: "ping" });
      r = await c.next();
      assert.equal([r.id, r.error.code], [null, "invalidArgument"]);
      c.send({ t: "req", id: 3, route: 42 });
      r = await c.next();
      assert.equal([r.id, r.error.code, r.error.message], [3, "invalidArgument", "request route must be a string, got number 42"]);
      c.send({ t: "req", id: 4, route: "constructor" });
      r = await c.next();
      assert.equal([r.id, r.error.code], [4, "unsupported"]);
      c.send({ t: "bogus", id: 5 });
      r = await c.next();
      assert.equal([r.id, r.error.code], [5, "invalidArgument"]);
      c.send({ t: "req", id: 6, route: "ping" });
      assert.equal(await c.next(), { t: "res", id: 6, result: "pong" });

      const h = Buffer.alloc(4);
      h.writeUInt32BE(4 * 1024 * 1024 + 1);
      c.send(h);
      r = await c.next();
      assert.equal([r.t, r.code], ["fatal", "invalidArgument"]);
      assert.match(r.message, /declares 4194305 bytes, more than the limit of 4194304/);
      await c.closed;

      other.send({ t: "req", id: 1, route: "ping" });
      assert.equal(await other.next(), { t: "res", id: 1, result: "pong" });
    } finally {
      c.s.destroy();
      other.s.destroy();
    }
  });
});

test("requireFields names the missing or mistyped field and returns the body typed", () => {
  const body = requireFields({ id: "web", force: true, n: 3 }, { id: "string", force: "boolean?", n: "integer", tail: "integer?" });
  assert.is(body.id, "web");
  const fail = (b: unknown, msg: RegExp) =>
    assert.throws(() => requireFields(b, { id: "string", env: "record<string>?" }, "bootstrap"), (e: unknown) => e instanceof BerthError && e.code === "invalidArgument" && msg.test(e.message));
  fail(null, /bootstrap must be an object, got null/);
  fail({}, /bootstrap is missing field "id" \(expected string\)/);
  fail({ id: 1 }, /bootstrap field "id" must be string, got number 1/);
  fail({ id: "a", env: { A: 1 } }, /field "env" must be record<string>/);
  fail(Object.create({ id: "inherited" }), /missing field "id"/);
});

test.run();
