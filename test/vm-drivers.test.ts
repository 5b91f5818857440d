// The process and fake drivers behind the same runtime service: the process driver runs
// unisolated host processes (and says so), the fake driver runs its scripted programs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { BerthError } from "../src/model/errors.js";
import { boot, cleanup, tempRoot } from "./helpers/vm-sandbox.js";

test("the process driver runs host processes, labels them isolation none, and reports real exit codes", async () => {
  const root = tempRoot();
  try {
    const c = await boot(root, "host1", { init: { args: ["/bin/sh", "-c", "sleep 1000"] } }, "process");
    try {
      const state = await c.client.state();
      assert.is(state.driver, "process");
      assert.is(state.isolation, "none");
      await c.client.startProcess("host1");
      await c.client.createProcess("x1", { args: ["/bin/sh", "-c", "exit 3"] });
      await c.client.startProcess("x1");
      assert.is((await c.client.wait("x1")).exitCode, 3);
      // A command that cannot be spawned fails with the reason the CLI maps to 127 / 126.
      for (const [pid, args, reason] of [["x2", ["/no/such/program"], "executableNotFound"], ["x3", ["/etc/passwd"], "notExecutable"]] as const) {
        await c.client.createProcess(pid, { args: [...args] });
        const failed = await c.client.startProcess(pid).then(() => undefined, (err: BerthError) => err);
        assert.is(failed?.reason, reason, `${args[0]}: ${failed?.message}`);
      }
      await c.client.stop({ timeoutInSeconds: 1 });
      const init = await c.client.wait("host1");
      assert.ok(init.exitCode === 143 || init.exitCode === 137, `init ended by a signal (${init.exitCode})`);
    } finally {
      c.client.close();
    }
  } finally {
    await cleanup(root, ["host1"]);
  }
});

test("the fake driver runs its scripted programs deterministically", async () => {
  const root = tempRoot();
  try {
    const c = await boot(root, "fake1", { init: { args: ["ignore-term"] } }, "fake");
    try {
      assert.is((await c.client.state()).isolation, "fake");
      await c.client.startProcess("fake1");
      await c.client.createProcess("x1", { args: ["exit", "4"] });
      await c.client.startProcess("x1");
      assert.is((await c.client.wait("x1")).exitCode, 4);
      await c.client.stop({ signal: "SIGTERM", timeoutInSeconds: 0 });
      const init = await c.client.wait("fake1");
      assert.is(init.exitCode, 137, "SIGTERM is ignored, so the stop escalates to SIGKILL");
    } finally {
      c.client.close();
    }
  } finally {
    await cleanup(root, ["fake1"]);
  }
});

test.run();
