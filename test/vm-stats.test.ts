import { test } from "uvu";
import * as assert from "uvu/assert";
import { boot, cleanup, execOutput, tempRoot, waitFor } from "./helpers/vm-sandbox.js";

const MB = 1024 * 1024;

test("statistics show a 50 MB allocation, CPU time that grows, and a process count", async () => {
  const root = tempRoot();
  try {
    // dd holds its 60 MB buffer while blocked writing into a pipe nobody reads; the loop burns CPU.
    const c = await boot(root, "busy", { init: { args: ["sh", "-c", "dd if=/dev/zero bs=60M count=1 | sleep 1000 & while :; do :; done"] } });
    await c.client.startProcess("busy");
    const first = await waitFor("50 MB in use", async () => {
      const s = await c.client.statistics();
      return s.memoryUsageBytes >= 50 * MB ? s : null;
    });
    const second = await waitFor("CPU time to grow", async () => {
      const s = await c.client.statistics();
      return s.cpuUsageUsec > first.cpuUsageUsec ? s : null;
    });
    assert.ok(second.cpuUsageUsec > first.cpuUsageUsec);
    assert.ok(second.processCount >= 3, `process count ${second.processCount}`);
    assert.is(second.memoryLimitBytes, null);
    assert.type(second.oomKillCount, "number");
    c.client.close();
  } finally {
    await cleanup(root, ["busy"]);
  }
});

test("pinging loopback with network none moves the network counters", async () => {
  const root = tempRoot();
  try {
    const c = await boot(root, "pinger", { network: "none", init: { args: ["sleep", "1000"] } });
    await c.client.startProcess("pinger");
    const before = await c.client.statistics();
    const ping = await execOutput(c, "ping", ["ping", "-c", "3", "-i", "0.2", "127.0.0.1"]);
    assert.is(ping.exitCode, 0, ping.stderr.join(" "));
    const after = await c.client.statistics();
    assert.ok(after.networkRxBytes > before.networkRxBytes, `rx ${before.networkRxBytes} -> ${after.networkRxBytes}`);
    assert.ok(after.networkTxBytes > before.networkTxBytes, `tx ${before.networkTxBytes} -> ${after.networkTxBytes}`);
    c.client.close();
  } finally {
    await cleanup(root, ["pinger"]);
  }
});

test.run();
