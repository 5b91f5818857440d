// The shipper runs in a worker thread (docs/fleet.md, "How the shipper runs"): it ships while
// the appending thread never yields, it stops cleanly with its last checkpoint and state, and a
// forgotten one does not keep a process alive.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { containerStream, type BerthEvent } from "../src/events/catalogue.js";
import { Journal } from "../src/events/journal.js";
import { SHIP_CHECKPOINT, Shipper } from "../src/fleet/shipper.js";
import { readShipStatus, shipStatusPath } from "../src/fleet/status.js";
import { withNats } from "./helpers/nats.js";
import { withTempDir } from "./helpers/tmp.js";
import { prepareDirectory } from "../src/ipc/socket-file.js";
import { socketPath } from "../src/host/root-layout.js";

const event = { type: "SignalSent", data: { processId: "init", signal: "SIGHUP" } } as unknown as BerthEvent;

test("the shipper ships while the appending thread is blocked, and stops with its checkpoint and state written", async () => {
  await withNats(async (nats) => {
    await withTempDir(async (root) => {
      prepareDirectory(socketPath(root), 0o700);
      const journal = await Journal.open(join(root, "journal.db"), { sync: "full" });
      try {
        const shipper = new Shipper(journal, { servers: nats.url, node: "t1", statusPath: shipStatusPath(root) });
        shipper.start();
        for (const end = Date.now() + 30_000; shipper.current().state !== "shipping"; ) {
          assert.ok(Date.now() < end, `the shipper ships within 30 s (${JSON.stringify(shipper.current())})`);
          await new Promise((r) => setTimeout(r, 10));
        }
        for (let i = 0; i < 50; i++) journal.append(containerStream(`c${i % 5}`), [event], "any");
        // No await from here on: this thread never yields, and the worker ships anyway.
        const end = Date.now() + 10_000;
        while (shipper.current().acked < 50 && Date.now() < end);
        assert.is(shipper.current().acked, 50, "all 50 acknowledged while this thread was busy");
        await shipper.stop();
        assert.is(journal.checkpoint(SHIP_CHECKPOINT), 50, "the last checkpoint was written at the stop");
        assert.is(readShipStatus(root)?.state, "stopped");
        assert.is(readShipStatus(root)?.acked, 50);
        assert.is(shipper.current().state, "stopped");
      } finally {
        journal.close();
      }
    });
  });
});

test("a started shipper that is never stopped does not keep the process alive", async () => {
  await withNats(async (nats) => {
    await withTempDir(async (root) => {
      const script = `
        import { Journal } from ${JSON.stringify(new URL("../src/events/journal.ts", import.meta.url).href)};
        import { Shipper } from ${JSON.stringify(new URL("../src/fleet/shipper.ts", import.meta.url).href)};
        const journal = await Journal.open(${JSON.stringify(join(root, "journal.db"))});
        const shipper = new Shipper(journal, { servers: ${JSON.stringify(nats.url)}, node: "t2", statusPath: ${JSON.stringify(join(root, "ship.json"))} });
        shipper.start();
        while (shipper.current().state !== "shipping") await new Promise((r) => setTimeout(r, 10));
        console.log("shipping");`;
      const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
      assert.is(child.stdout.trim(), "shipping", child.stderr);
      assert.is(child.status, 0, `the process ended by itself (signal ${child.signal})`);
    });
  });
});

test.run();
