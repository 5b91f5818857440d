// Issue #12 point 3: `berth run` (attached, -d, --rm) and `berth start` of a stopped container
// each send the daemon one request frame. The CLI talks to a counting proxy: a Unix socket in a
// root of its own that forwards every byte to the real daemon and decodes the frames the client
// sends on the way (a 4-byte length, then one msgpack value: src/ipc/frame.ts).
import fs from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { newCodec } from "../src/ipc/frame.js";
import { socketDir, socketPath } from "../src/host/root-layout.js";
import { berth, withDaemon } from "./helpers/cli-env.js";
import { journalEvents } from "./helpers/daemon.js";
import { tempDir } from "./helpers/tmp.js";

interface Proxy {
  root: string;
  /** The routes of the request frames sent since the last call, in order. */
  take(): string[];
  close(): Promise<void>;
}

async function countingProxy(daemonRoot: string): Promise<Proxy> {
  const dir = tempDir("berth-proxy-");
  fs.mkdirSync(socketDir(dir.path), { mode: 0o700 });
  let requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const daemon = createConnection(socketPath(daemonRoot));
    sockets.add(client).add(daemon);
    const codec = newCodec();
    let pending = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      daemon.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
        const frame = codec.unpack(pending.subarray(4, 4 + pending.readUInt32BE(0))) as { t: string; route?: string };
        if (frame.t === "req") requests.push(frame.route!);
        pending = pending.subarray(4 + pending.readUInt32BE(0));
      }
    });
    daemon.pipe(client);
    const end = () => {
      client.destroy();
      daemon.destroy();
    };
    client.on("close", end).on("error", end);
    daemon.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(socketPath(dir.path), resolve));
  return {
    root: dir.path,
    take: () => {
      const taken = requests;
      requests = [];
      return taken;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      dir.remove();
    },
  };
}

test("run attached, run -d, run --rm and start of a stopped container each send one request frame", () =>
  withDaemon(async (root) => {
    const proxy = await countingProxy(root);
    try {
      const attached = await berth(proxy.root, ["run", "--name", "a1", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"]);
      assert.is(attached.code, 3, attached.stderr);
      assert.is(attached.stdout, "out\n");
      assert.is(attached.stderr, "err\n");
      assert.equal(proxy.take(), ["run"], "attached run");

      const detached = await berth(proxy.root, ["run", "-d", "--name", "d1", "busybox", "sleep", "1000"]);
      assert.is(detached.code, 0, detached.stderr);
      assert.is(detached.stdout, "d1\n");
      assert.equal(proxy.take(), ["run"], "run -d");

      const removed = await berth(proxy.root, ["run", "--rm", "--name", "r1", "busybox", "sh", "-c", "echo bye; exit 4"]);
      assert.is(removed.code, 4, removed.stderr);
      assert.is(removed.stdout, "bye\n");
      assert.equal(proxy.take(), ["run"], "run --rm");
      assert.is((await journalEvents(root)).filter((e) => e.streamId === "container-r1").at(-1)?.type, "ContainerDeleted", "the exit came once the delete had committed");

      assert.is((await berth(root, ["stop", "-t", "0", "d1"])).code, 0);
      const started = await berth(proxy.root, ["start", "d1"]);
      assert.is(started.code, 0, started.stderr);
      assert.is(started.stdout, "d1\n");
      assert.equal(proxy.take(), ["start"], "start of a stopped container");
      const stream = (await journalEvents(root)).filter((e) => e.streamId === "container-d1");
      const stoppedAt = stream.map((e) => e.type).lastIndexOf("ContainerStopped");
      const restart = stream.slice(stoppedAt + 1);
      assert.equal(restart.map((e) => e.type), ["ShutdownRequested", "ContainerShutdown", "BootstrapRequested", "ContainerBooted", "ProcessStartRequested", "ProcessStarted"]);
      const commands = restart.filter((e) => e.commandId !== undefined);
      assert.equal(commands.map((e) => e.type), ["ShutdownRequested", "BootstrapRequested", "ProcessStartRequested"]);
      assert.ok(commands.every((e) => e.actor?.pid === process.pid), "each step is the client's (here the proxy's)");
    } finally {
      await proxy.close();
    }
  }));

test.run();
