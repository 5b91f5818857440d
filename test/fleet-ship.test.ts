// Issue #17: every node's journal shipped to NATS JetStream, against a real nats-server -js on
// loopback. The stream must hold exactly the journal: the same rows, byte for byte, in position
// order, with no gap and no duplicate, through daemon crashes and server restarts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tempRoot, withDaemon } from "./helpers/daemon.js";
import { assertSameRows, lifecycle, shippingDaemon, waitShipped } from "./helpers/fleet.js";
import { withNats } from "./helpers/nats.js";

test("100 container lifecycles shipped: the stream equals the journal, byte for byte, in order, no gap, no duplicate", async () => {
  await withNats(async (nats) => {
    await withDaemon(tempRoot(), async (frame) => {
      await Promise.all([0, 1, 2, 3].map(async (lane) => {
        for (let i = lane; i < 100; i += 4) await lifecycle(frame, `c${i}`);
      }));
      const { stream, journal } = await waitShipped(nats.url, "node-a", frame.root);
      assert.ok(journal.length >= 500, `the journal holds the lifecycles (${journal.length} events)`);
      assertSameRows(stream, journal);
      assert.ok(stream.every((s) => s.node === "node-a"), "every message names its node");
    }, { driver: "fake", command: shippingDaemon(nats.url, "node-a") });
  });
});

test.run();
