// Warm runtime services (src/vm/service-pool.ts): a bootstrap claims one instead of starting
// Node, the claimed service takes over the container's log and outlives the pool, and an idle
// one never outlives its pool, whether the pool closes or its owner is SIGKILLed.
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { containerPaths } from "../src/vm/paths.js";
import { probeRuntime, ServicePool, startRuntimeService, type RuntimeEndpoint } from "../src/vm/runtime.js";
import { ServiceClient } from "../src/vm/service-client.js";
import { boot, cleanup, config, execOutput, pidAlive, spawnParent, tempRoot, waitFor } from "./helpers/vm-sandbox.js";

test("a bootstrap claims the warm service: same pid, the container runs, its runtime.log is the service's output", async () => {
  const root = tempRoot();
  const pool = new ServicePool(root, 1, 0);
  try {
    pool.fill();
    await pool.ready();
    const [warmPid] = pool.idlePids;
    assert.ok(warmPid, "one warm service");
    const endpoint = await startRuntimeService({ root, id: "w1", config: config({ init: { args: ["sleep", "100"] } }, "w1"), pool });
    assert.is(endpoint.pid, warmPid, "the bootstrap used the warm service");
    const client = await ServiceClient.connect(endpoint.socket);
    await client.startProcess("w1");
    const booted = { root, id: "w1", endpoint, client };
    const r = await execOutput(booted, "e1", ["sh", "-c", "echo isolated; hostname; exit 4"]);
    assert.is(r.exitCode, 4);
    assert.equal(r.stdout, ["isolated", "w1"]);
    const log = fs.readFileSync(containerPaths(root, "w1").serviceLog, "utf8");
    assert.match(log, new RegExp(`runtime service ${warmPid} booting w1 \\(claimed warm\\)`));
    // The pool refills behind the take, with a new process.
    await pool.ready();
    assert.is(pool.idlePids.length, 1);
    assert.is.not(pool.idlePids[0], warmPid);
    // Closing the pool ends the idle one only; the claimed service belongs to its container now.
    const idle = pool.idlePids[0]!;
    pool.close();
    await waitFor("the idle service to exit", () => !pidAlive(idle));
    assert.ok(pidAlive(warmPid!), "the claimed service lives on");
    assert.is((await client.state()).status, "running");
    client.close();
  } finally {
    pool.close();
    await cleanup(root, ["w1"]);
  }
});

test("without a pool (or with an empty one) a service is started for the bootstrap", async () => {
  const root = tempRoot();
  try {
    const b = await boot(root, "cold", { init: { args: ["sleep", "100"] } });
    const log = fs.readFileSync(containerPaths(root, "cold").serviceLog, "utf8");
    assert.match(log, new RegExp(`runtime service ${b.endpoint.pid} booting cold \\(started for it\\)`));
    // Node's own start-up writes here too: its V8 flags must not make it warn in every container.
    assert.not.match(log, /Warning/);
    b.client.close();
  } finally {
    await cleanup(root, ["cold"]);
  }
});

test("when the pool's owner is SIGKILLed, its claimed container keeps running and its idle service exits", async () => {
  const root = tempRoot();
  const id = "kept";
  let parent: ChildProcess | undefined;
  try {
    const spawned = await spawnParent(root, id, ["sleep", "100"], "warm");
    parent = spawned.parent;
    const line = spawned.line;
    const { endpoint, idlePids } = JSON.parse(line) as { endpoint: RuntimeEndpoint; idlePids: number[] };
    assert.is(idlePids.length, 1, "the pool refilled");
    assert.ok(pidAlive(idlePids[0]!));
    parent.kill("SIGKILL");
    await waitFor("the idle service to exit", () => !pidAlive(idlePids[0]!));
    assert.ok(probeRuntime(root, id).alive, "the claimed service survives");
    const client = await ServiceClient.connect(endpoint.socket);
    assert.is((await client.state()).processes[id]!.status, "running");
    client.close();
  } finally {
    if (parent && parent.exitCode === null && parent.signalCode === null) parent.kill("SIGKILL");
    await cleanup(root, [id]);
  }
});

test.run();
