import { test } from "uvu";
import * as assert from "uvu/assert";
import { boot, cleanup, execOutput, processLog, recordedExit, tempRoot, waitFor } from "./helpers/vm-sandbox.js";

test("hostname, process table and network are the container's own; the rootfs is read-only", async () => {
  const root = tempRoot();
  try {
    const c = await boot(root, "iso", { hostname: "boxy", readOnlyRootfs: true, network: "none", init: { args: ["sleep", "1000"] } });
    await c.client.startProcess("iso");
    assert.equal((await execOutput(c, "hn", ["hostname"])).stdout, ["boxy"]);

    const ps = await execOutput(c, "ps", ["ps", "-o", "pid,comm"]);
    const rows = ps.stdout.slice(1).map((l) => l.trim().split(/\s+/));
    assert.equal(rows.map((r) => r[1]).sort(), ["ps", "sleep"], `ps shows only the container: ${ps.stdout.join(" | ")}`);
    assert.ok(rows.some((r) => r[0] === "1" && r[1] === "sleep"), "init is PID 1");

    const net = await execOutput(c, "net", ["cat", "/proc/net/dev"]);
    const ifaces = net.stdout.slice(2).map((l) => l.split(":")[0]!.trim());
    assert.equal(ifaces, ["lo"]);
    const lo = await execOutput(c, "lo", ["ip", "link", "show", "lo"]);
    assert.ok(lo.stdout.join(" ").includes("UP"), "loopback is up");

    const write = await execOutput(c, "write", ["touch", "/written"]);
    assert.is.not(write.exitCode, 0);
    assert.ok(write.stderr.join(" ").includes("Read-only"), write.stderr.join(" "));
    c.client.close();
  } finally {
    await cleanup(root, ["iso"]);
  }
});

test("a 20 MB memory limit OOM-kills a process that needs 100 MB, and the exit record says so", async () => {
  const root = tempRoot();
  try {
    const c = await boot(root, "oom", { resources: { memoryBytes: 20 * 1024 * 1024 }, init: { args: ["dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1"] } });
    await c.client.startProcess("oom");
    const exit = await c.client.wait("oom");
    assert.is(exit.exitCode, 137);
    assert.is(exit.oomKilled, true);
    assert.is(recordedExit(root, "oom", "oom")!.oomKilled, true);
    c.client.close();
  } finally {
    await cleanup(root, ["oom"]);
  }
});

test("an exec'd process that outgrows the limit is also reported as OOM-killed", async () => {
  const root = tempRoot();
  try {
    const c = await boot(root, "oomx", { resources: { memoryBytes: 20 * 1024 * 1024 }, init: { args: ["sleep", "1000"] } });
    await c.client.startProcess("oomx");
    const r = await execOutput(c, "hog", ["dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1"]);
    assert.is(r.exitCode, 137);
    assert.is(recordedExit(root, "oomx", "hog")!.oomKilled, true);
    c.client.close();
  } finally {
    await cleanup(root, ["oomx"]);
  }
});

test("a pids limit stops a fork bomb", async () => {
  const root = tempRoot();
  try {
    const c = await boot(root, "bomb", { resources: { pids: 16 }, init: { args: ["sleep", "1000"] } });
    await c.client.startProcess("bomb");
    await c.client.createProcess("fork", { args: ["sh", "-c", "i=0; while [ $i -lt 100 ]; do sleep 1000 & i=$((i+1)); done"] });
    await c.client.startProcess("fork");
    const { readLogs } = await import("../src/vm/logs.js");
    await waitFor("a fork failure", () => readLogs(processLog(root, "bomb", "fork")).some((e) => /can't fork/.test(e.line)));
    const stats = await c.client.statistics();
    assert.ok(stats.processCount <= 16, `process count ${stats.processCount} within the limit`);
    c.client.close();
  } finally {
    await cleanup(root, ["bomb"]);
  }
});

test.run();
