// A relay of a stream (the daemon passing a runtime service's log stream on, issue #11 point 6):
// items cross as the upstream encoded them, never decoded, and a slow reader at the far end
// pushes back on the upstream instead of being queued in the relay.
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { IpcClient } from "../src/ipc/client.js";
import { FramePool, encodeFrame, itemPayload, newCodec } from "../src/ipc/frame.js";
import { listen, type IpcServer, type Route } from "../src/ipc/server.js";
import { tempDir } from "./helpers/tmp.js";

const codec = newCodec();
const values = [0, "x", { t: 1700000000123, s: "stdout", p: "web", line: "é".repeat(9000), partial: true }, [1, 2], null];

test("itemPayload finds the item in the frame msgpackr packs; encodeRawItem packs the same bytes", () => {
  const pool = new FramePool();
  for (const id of [1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1]) {
    for (const item of values) {
      const frame = encodeFrame(codec, { t: "item", id, item });
      const body = frame.subarray(4);
      const at = itemPayload(body);
      assert.ok(at, `item frame ${id} found`);
      assert.is(at!.id, id);
      assert.equal(codec.unpack(body.subarray(at!.offset)), item);
      assert.equal(pool.encodeRawItem(id, body.subarray(at!.offset)).bytes, frame);
    }
  }
  for (const other of [{ t: "res", id: 1, result: "x" }, { t: "end", id: 1 }, { t: "item", item: 1, id: 1 }, "item"]) {
    assert.is(itemPayload(encodeFrame(codec, other).subarray(4)), undefined);
  }
});

async function server(dir: string, name: string, routes: Record<string, Route>): Promise<{ socket: string; server: IpcServer }> {
  const socket = join(dir, name, "s.sock");
  return { socket, server: await listen({ socketPath: socket, routes }) };
}

test("a relayed stream delivers the upstream's items unchanged, and a stalled reader stops the upstream", async () => {
  const dir = tempDir("berth-relay-");
  const line = "a".repeat(16 * 1024);
  const total = 4096; // 64 MiB of items: more than the relay's connection may queue before it drops its client
  let produced = 0;
  const up = await server(dir.path, "up", {
    logs: {
      kind: "stream",
      handler: async (_b, ctx) => {
        for (let i = 0; i < total; i++, produced++) await ctx.emit(i % 1000 === 0 ? { i, line: "é".repeat(100) } : { i, line });
      },
    },
  });
  const upstream = await IpcClient.connect(up.socket);
  const relay = await server(dir.path, "relay", {
    logs: {
      kind: "stream",
      handler: async (_b, ctx) => {
        const s = upstream.stream<never>("logs", {}, { sink: (item) => ctx.emitRaw(item) });
        ctx.signal.addEventListener("abort", () => s.cancel(), { once: true });
        for await (const _ of s);
      },
    },
  });
  const reader = await IpcClient.connect(relay.socket);
  try {
    const stream = reader.stream<{ i: number; line: string }>("logs");
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.value, { i: 0, line: "é".repeat(100) });
    await sleep(500); // the reader stalls: what the upstream may produce meanwhile is bounded
    assert.ok(produced < 1024, `the upstream produced ${produced} of ${total} items while the reader stalled`);
    let n = 1;
    for (let r; !(r = await it.next()).done; n++) {
      const want = n % 1000 === 0 ? "é".repeat(100) : line;
      if (r.value.i !== n || r.value.line !== want) assert.unreachable(`item ${n} arrived as ${r.value.i} with a line of ${r.value.line.length}`);
    }
    assert.is(n, total);
  } finally {
    reader.close();
    upstream.close();
    await relay.server.close();
    await up.server.close();
    dir.remove();
  }
});

test.run();
