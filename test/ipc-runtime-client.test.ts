// Acceptance 3.1 (routes): the RuntimeClient drives every daemon route over a real Unix socket
// against a stub daemon, and errors arrive as BerthError with the model's codes.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RuntimeClient } from "../src/ipc/runtime-client.js";
import { listen } from "../src/ipc/server.js";
import { stubDaemon } from "./helpers/ipc-stub.js";
import { tempDir } from "./helpers/tmp.js";
import { rejection } from "./helpers/errors.js";

async function withStub(fn: (rc: RuntimeClient, stub: ReturnType<typeof stubDaemon>) => Promise<void>): Promise<void> {
  const dir = tempDir("berth-ipc-");
  const stub = stubDaemon();
  const socket = join(dir.path, "run", "berth.sock");
  const server = await listen({ socketPath: socket, routes: stub.routes });
  let rc: RuntimeClient | undefined;
  try {
    rc = await RuntimeClient.create({ id: "web", socket });
    await fn(rc, stub);
  } finally {
    rc?.close();
    await server.close();
    dir.remove();
  }
}

test("the issue's RuntimeClient walk-through reaches every lifecycle route with the expected bodies", async () => {
  await withStub(async (rc, stub) => {
    await rc.createContainer({ init: { args: ["sh"] } });
    await rc.bootstrap({ dynamicEnv: { LANG: "C.UTF-8" } });
    await rc.startProcess("web");
    await rc.createProcess("exec-1", { args: ["ls", "-la"], env: { PATH: "/usr/bin:/bin" }, cwd: "/" });
    await rc.startProcess("exec-1");
    const snap = await rc.state<{ status: string; processes: Record<string, { status: string }> }>();
    assert.is(snap.status, "running");
    assert.is(snap.processes["exec-1"]!.status, "running");
    const stats = await rc.statistics<{ numProcesses: number }>();
    assert.is(stats.numProcesses, 2);
    await rc.kill("exec-1", "SIGKILL");
    const exit = await rc.wait("exec-1"); // late wait: the exit is already stored
    assert.equal(exit, { exitCode: 137, exitedAt: new Date(0).toISOString(), oomKilled: false, signal: "SIGKILL" });
    await rc.stop({ signal: "SIGTERM", timeoutInSeconds: 30 });
    await rc.shutdown();
    await rc.delete({ force: true });

    const lifecycle = stub.calls.filter((c) => c.route !== "state" && c.route !== "statistics" && c.route !== "wait");
    assert.equal(lifecycle.map((c) => c.route), ["create", "bootstrap", "startProcess", "createProcess", "startProcess", "kill", "stop", "shutdown", "delete"]);
    for (const c of stub.calls) {
      assert.is(c.body.id, "web");
      assert.is(c.peer.uid, process.getuid!());
      assert.is(c.peer.pid, process.pid); // the kernel's answer, not anything the client sent
    }
    const ids = lifecycle.map((c) => c.body.commandId);
    assert.ok(ids.every((id) => typeof id === "string" && /^[0-9a-f-]{36}$/.test(id as string)), "each lifecycle call carries a uuid commandId");
    assert.is(new Set(ids).size, ids.length, "commandIds are unique per call");
    assert.equal(stub.calls.find((c) => c.route === "bootstrap")!.body.dynamicEnv, { LANG: "C.UTF-8" });
    assert.equal(stub.calls.find((c) => c.route === "createProcess")!.body.spec, { args: ["ls", "-la"], env: { PATH: "/usr/bin:/bin" }, cwd: "/" });
    const stop = stub.calls.find((c) => c.route === "stop")!.body;
    assert.is(stop.signal, "SIGTERM");
    assert.is(stop.timeoutInSeconds, 30);
    assert.is(stub.calls.find((c) => c.route === "kill")!.body.signal, "SIGKILL");
    assert.is(stub.calls.find((c) => c.route === "delete")!.body.force, true);
  });
});

test("wait on a running process streams progress and resolves with the exit once it happens", async () => {
  await withStub(async (rc) => {
    await rc.createContainer({ init: { args: ["sh"] } });
    await rc.bootstrap();
    await rc.startProcess("web");
    const waiting = rc.wait("web");
    // The wait stream is open and parked on the server; the kill completes it.
    await rc.kill("web", "SIGTERM");
    const exit = await waiting;
    assert.is(exit.exitCode, 143);
    assert.is(exit.signal, "SIGTERM");
  });
});

test("typed errors from handlers reach the caller as BerthError with code and message", async () => {
  await withStub(async (rc) => {
    const missing = await rejection(rc.state());
    assert.is(missing.code, "notFound");
    assert.is(missing.message, "no such container: web");
    await rc.createContainer({ init: { args: ["sh"] } });
    const again = await rejection(rc.createContainer({ init: { args: ["sh"] } }));
    assert.is(again.code, "exists");
    const noProc = await rejection(rc.kill("nope", "SIGKILL"));
    assert.is(noProc.code, "notFound");
    const badBody = await rejection(rc.ipc.call("createProcess", { id: "web", processId: 7, spec: {} }));
    assert.is(badBody.code, "invalidArgument");
    assert.match(badBody.message, /field "processId" must be string, got number 7/);
    const unknown = await rejection(rc.ipc.call("teleport", { id: "web" }));
    assert.is(unknown.code, "unsupported");
    assert.match(unknown.message, /unknown route "teleport"/);
    // The connection survives every failure above.
    assert.is((await rc.state<{ status: string }>()).status, "created");
  });
});

test("list, events and logs round-trip over the same connection", async () => {
  await withStub(async (rc) => {
    await rc.createContainer({ init: { args: ["sh"] } });
    assert.equal(await rc.ipc.call("list", { all: true }), ["web"]);
    const events: unknown[] = [];
    for await (const e of rc.ipc.stream("events", { fromPosition: 0 })) events.push(e);
    assert.equal(events, [{ position: 1, route: "create" }]);
    const lines: unknown[] = [];
    for await (const l of rc.logs({ tail: 10 })) lines.push(l);
    assert.equal(lines, [{ stream: "stdout", line: "hello" }, { stream: "stderr", line: "warn" }]);
  });
});

test("RuntimeClient.create reports a missing server as notFound", async () => {
  const dir = tempDir("berth-ipc-");
  try {
    const err = await rejection(RuntimeClient.create({ id: "web", socket: join(dir.path, "none.sock") }));
    assert.is(err.code, "notFound");
    assert.match(err.message, /none\.sock/);
  } finally {
    dir.remove();
  }
});

test.run();
