import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { containerPaths } from "../src/vm/paths.js";
import { probeRuntime, readExitRecords, type RuntimeEndpoint } from "../src/vm/runtime.js";
import { ServiceClient } from "../src/vm/service-client.js";
import { cleanup, pidAlive, spawnParent, tempRoot, waitFor } from "./helpers/vm-sandbox.js";

test("the runtime service and its container survive a SIGKILLed parent; a late wait gets the exit", async () => {
  const root = tempRoot();
  const id = "orphan";
  let parent: ChildProcess | undefined;
  try {
    const spawned = await spawnParent(root, id, ["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 3"]);
    parent = spawned.parent;
    const line = spawned.line;
    const endpoint = JSON.parse(line) as RuntimeEndpoint;
    spawned.parent.kill("SIGKILL");
    await waitFor("parent death", () => spawned.parent.exitCode !== null || spawned.parent.signalCode !== null);

    assert.ok(probeRuntime(root, id).alive, "probe says alive by pid and start time");
    const c1 = await ServiceClient.connect(endpoint.socket);
    const s = await c1.state();
    assert.is(s.status, "running");
    assert.is(s.processes[id]!.status, "running");
    c1.close();

    // The exit happens while nobody is connected.
    fs.writeFileSync(join(containerPaths(root, id).rootfs, "tmp", "go"), "");
    const rec = await waitFor("exit record", () => readExitRecords(root, id).find((r) => r.processId === id));
    assert.is(rec.exitCode, 3);

    const c2 = await ServiceClient.connect(endpoint.socket);
    const late = await c2.wait(id);
    assert.is(late.exitCode, 3);
    assert.is(late.pid, rec.pid);
    assert.is(late.exitedAt, rec.exitedAt);
    const exits: unknown[] = [];
    for await (const e of c2.exits(false)) exits.push(e);
    assert.is(exits.length, 1);
    // Once the daemon acknowledges the final exit of a torn-down sandbox, the service exits.
    await waitFor("stopped", async () => (await c2.state()).status === "stopped");
    assert.equal(await c2.ack(id, rec.pid), { acked: true });
    c2.close();
    await waitFor("service exit", () => !pidAlive(endpoint.pid));
    assert.not.ok(probeRuntime(root, id).alive);
    const exitsDir = containerPaths(root, id).exits;
    const [file] = fs.readdirSync(exitsDir).filter((n) => n.endsWith(".json"));
    assert.ok(JSON.parse(fs.readFileSync(join(exitsDir, file!), "utf8")).ackedAt, "the record shows the ack");
  } finally {
    if (parent && parent.exitCode === null && parent.signalCode === null) parent.kill("SIGKILL");
    await cleanup(root, [id]);
  }
});

test.run();
