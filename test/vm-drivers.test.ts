// The fake driver behind the same runtime service as runc: it runs its scripted programs in the
// daemon's memory (src/vm/fake-driver.ts), for fast model tests.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { boot, cleanup, tempRoot } from "./helpers/vm-sandbox.js";

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
