// Acceptance 3.4: the socket file. A stale socket from a SIGKILLed server is replaced; a live
// server is never replaced; modes are 0660 in a 0700 directory; close removes only its own file.
import { mkdirSync, statSync, writeFileSync, existsSync, renameSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { IpcClient } from "../src/ipc/client.js";
import { listen, type Route } from "../src/ipc/server.js";
import { reap, spawnChild, type Child } from "./helpers/ipc-procs.js";
import { tempDir } from "./helpers/tmp.js";
import { rejection } from "./helpers/errors.js";

const routes: Record<string, Route> = { ping: { kind: "unary", handler: () => ({ pong: true, serverPid: process.pid }) } };

async function ping(socket: string): Promise<{ pong: boolean; serverPid: number }> {
  const c = await IpcClient.connect(socket);
  try {
    return await c.call("ping");
  } finally {
    c.close();
  }
}

test("a socket left by a SIGKILLed server is detected as stale and replaced", async () => {
  const dir = tempDir("berth-ipc-");
  const socket = join(dir.path, "run", "berth.sock");
  let child: Child | undefined;
  try {
    child = spawnChild(["server", socket]);
    const { pid } = await child.line<{ pid: number }>();
    assert.is((await ping(socket)).serverPid, pid);
    await child.kill("SIGKILL");
    assert.ok(statSync(socket).isSocket(), "the killed server could not remove its socket");
    assert.is((await rejection(ping(socket))).code, "notFound");

    const server = await listen({ socketPath: socket, routes });
    try {
      assert.is((await ping(socket)).serverPid, process.pid);
    } finally {
      await server.close();
    }
    assert.not.ok(existsSync(socket), "close removes the socket it created");
  } finally {
    await reap(child);
    dir.remove();
  }
});

test("a second server on a live socket fails with exists and the first keeps serving", async () => {
  const dir = tempDir("berth-ipc-");
  const socket = join(dir.path, "run", "berth.sock");
  let child: Child | undefined;
  try {
    child = spawnChild(["server", socket]);
    const { pid } = await child.line<{ pid: number }>();
    const err = await rejection(listen({ socketPath: socket, routes }));
    assert.is(err.code, "exists");
    assert.match(err.message, /already listening on .*berth\.sock/);
    assert.is((await ping(socket)).serverPid, pid);
    assert.is((await ping(socket)).serverPid, pid);
  } finally {
    await reap(child);
    dir.remove();
  }
});

test("the socket is 0660 inside a 0700 directory created for it", async () => {
  const dir = tempDir("berth-ipc-");
  const socket = join(dir.path, "run", "berth.sock");
  const server = await listen({ socketPath: socket, routes });
  try {
    assert.is(statSync(join(dir.path, "run")).mode & 0o777, 0o700);
    assert.is(statSync(socket).mode & 0o777, 0o660);
  } finally {
    await server.close();
    dir.remove();
  }
});

test("an existing directory that grants more than 0700 is refused rather than chmod-ed", async () => {
  const dir = tempDir("berth-ipc-");
  const open = join(dir.path, "shared");
  mkdirSync(open, { mode: 0o755 });
  try {
    const err = await rejection(listen({ socketPath: join(open, "berth.sock"), routes }));
    assert.is(err.code, "invalidArgument");
    assert.match(err.message, /has mode 0755, expected at most 0700/);
    assert.is(statSync(open).mode & 0o777, 0o755);
  } finally {
    dir.remove();
  }
});

test("a regular file at the socket path is never deleted", async () => {
  const dir = tempDir("berth-ipc-");
  const run = join(dir.path, "run");
  mkdirSync(run, { mode: 0o700 });
  const socket = join(run, "berth.sock");
  writeFileSync(socket, "precious");
  try {
    const err = await rejection(listen({ socketPath: socket, routes }));
    assert.is(err.code, "exists");
    assert.match(err.message, /is not a socket/);
    assert.ok(statSync(socket).isFile());
  } finally {
    dir.remove();
  }
});

test("closing a server does not remove a successor's socket at the same path", async () => {
  const dir = tempDir("berth-ipc-");
  const socket = join(dir.path, "run", "berth.sock");
  const first = await listen({ socketPath: socket, routes });
  let second: Awaited<ReturnType<typeof listen>> | undefined;
  try {
    // Someone moved the first socket away and a new server took the path.
    renameSync(socket, join(dir.path, "run", "old.sock"));
    second = await listen({ socketPath: socket, routes });
    await first.close();
    assert.ok(statSync(socket).isSocket());
    assert.ok((await ping(socket)).pong);
  } finally {
    await first.close();
    await second?.close();
    dir.remove();
  }
});

test.run();
