// Issue #12 point 3: a lifecycle route's reply is the outcome its command's effect journaled,
// handed back by the effect (or, for a retried command id, by the store), never read back from
// the journal by the route. Real daemon, real runc.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { containerStream, type StoredEvent } from "../src/events/catalogue.js";
import { journalEvents, tempRoot, withDaemon } from "./helpers/daemon.js";
import { rejection } from "./helpers/errors.js";

const streamOf = async (root: string, id: string) => (await journalEvents(root)).filter((e) => e.streamId === containerStream(id));
const errorOf = (e: StoredEvent | undefined) => (e?.data as { error?: { code: string; message: string; reason?: string } } | undefined)?.error;

test("a failing bootstrap or start replies with the typed error its outcome records; a retried command id gets that outcome, after a daemon restart too", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    let ipc = await daemon.ipc();
    await ipc.call("create", { id: "nb", config: { rootfs: { image: "nosuchimage" }, init: { args: ["true"] } } });
    const boot = await rejection(ipc.call("bootstrap", { id: "nb", commandId: "nb-boot" }));
    const bootFailed = (await streamOf(root, "nb")).find((e) => e.type === "BootstrapFailed");
    assert.is(boot.code, "notFound");
    assert.equal(boot.toJSON(), errorOf(bootFailed));

    await ipc.call("create", { id: "ns", config: { init: { args: ["sleep", "1000"] } } });
    await ipc.call("bootstrap", { id: "ns" });
    await ipc.call("createProcess", { id: "ns", processId: "x", spec: { args: ["no-such-command"] } });
    await ipc.call("startProcess", { id: "ns", processId: "ns", commandId: "ns-init" });
    const start = await rejection(ipc.call("startProcess", { id: "ns", processId: "x", commandId: "ns-exec" }));
    const startFailed = (await streamOf(root, "ns")).find((e) => e.type === "ProcessStartFailed" && (e.data as { processId: string }).processId === "x");
    assert.ok(startFailed, "the failure is journaled");
    assert.is(start.reason, "executableNotFound");
    assert.equal(start.toJSON(), errorOf(startFailed));

    const retried = async () => {
      const b = await rejection(ipc.call("bootstrap", { id: "nb", commandId: "nb-boot" }));
      assert.equal(b.toJSON(), boot.toJSON(), "the retried bootstrap");
      const s = await rejection(ipc.call("startProcess", { id: "ns", processId: "x", commandId: "ns-exec" }));
      assert.equal(s.toJSON(), start.toJSON(), "the retried start");
    };
    const before = (await journalEvents(root)).length;
    await retried(); // from what this daemon's store appended
    assert.is((await journalEvents(root)).length, before, "a retry journals nothing");
    ipc.close();
    await daemon.restart();
    ipc = await daemon.ipc();
    const recovered = (await journalEvents(root)).length;
    await retried(); // journaled by the daemon before: this store never appended them
    assert.is((await journalEvents(root)).length, recovered, "a retry after a restart journals nothing");
    assert.is((await streamOf(root, "nb")).filter((e) => e.type === "BootstrapRequested").length, 1);
    assert.is((await streamOf(root, "ns")).filter((e) => e.type === "ProcessStartRequested" && (e.data as { processId: string }).processId === "x").length, 1);
    ipc.close();
  }));

test("a retried bootstrap command id replies with its original outcome and is not performed again", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    const ipc = await daemon.ipc();
    await ipc.call("create", { id: "d", config: { init: { args: ["sleep", "1000"] } } });
    assert.is((await ipc.call<{ status: string }>("bootstrap", { id: "d", commandId: "d-boot" })).status, "booted");
    await ipc.call("shutdown", { id: "d" });
    // The decider would accept a new bootstrap of this created container: the retry is not one.
    assert.is((await ipc.call<{ status: string }>("bootstrap", { id: "d", commandId: "d-boot" })).status, "created");
    assert.equal((await streamOf(root, "d")).map((e) => e.type), ["ContainerCreated", "BootstrapRequested", "ContainerBooted", "ShutdownRequested", "ContainerShutdown"]);
    ipc.close();
  }));

test("wait on an --rm container returns the exit it had, though the container is deleted when it stops", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    const rc = await daemon.client("w");
    try {
      await rc.createContainer({ autoRemove: true, init: { args: ["sh", "-c", "sleep 0.3; exit 5"] } });
      const waited = rc.wait("w");
      await rc.bootstrap();
      await rc.startProcess("w");
      assert.is((await waited).exitCode, 5);
    } finally {
      rc.close();
    }
    assert.is((await streamOf(root, "w")).at(-1)?.type, "ContainerDeleted");
  }));

test("the routes read the journal only in the query routes, through named methods", () => {
  const routes = readFileSync(join(import.meta.dirname, "..", "src", "daemon", "routes.ts"), "utf8");
  const reads = new Set([...routes.matchAll(/\.journal\.(\w+)\(/g)].map((m) => m[1]));
  // `events` pages with query() up to head(); no lifecycle route asks what its command wrote.
  assert.equal([...reads].sort(), ["head", "query"]);
});

test.run();
