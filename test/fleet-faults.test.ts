// Issue #17, faults: the daemon killed with kill -9 at 20 random moments while it ships, and
// nats-server killed and restarted 5 times. Afterwards the stream still equals the journal (no
// gap, no duplicate), and local commands kept working while NATS was down.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tempRoot, waitFor, withDaemon } from "./helpers/daemon.js";
import { assertSameRows, journalRows, lifecycle, shippingDaemon, waitShipped } from "./helpers/fleet.js";
import { withNats } from "./helpers/nats.js";
import { random } from "./helpers/random.js";
import { readShipStatus } from "../src/fleet/status.js";

const seed = Number(process.env.FLEET_SEED ?? Date.now() % 100_000);

test(`20 daemon kill -9s and 5 nats-server restarts while shipping leave the stream equal to the journal (seed ${seed})`, async () => {
  const rnd = random(seed);
  await withNats(async (nats) => {
    await withDaemon(tempRoot(), async (frame) => {
      let n = 0;
      for (let round = 0; round < 20; round++) {
        // A burst of lifecycles on two lanes, cut short by the kill at a random moment.
        const burst = Promise.all([0, 1].map(async () => {
          for (let i = 0; i < 5; i++) await lifecycle(frame, `r${round}-${n++}`);
        })).catch(() => {});
        await new Promise((r) => setTimeout(r, 20 + rnd.int(400)));
        if (round % 4 === 3) await nats.restart();
        await frame.kill9();
        await burst;
        await frame.restart();
      }
      // NATS down: local commands go on, and shipping catches up once it is back.
      await nats.kill9();
      const before = (await journalRows(frame.root)).length;
      for (let i = 0; i < 5; i++) await lifecycle(frame, `offline-${i}`);
      assert.ok((await journalRows(frame.root)).length > before, "commands committed while NATS was down");
      await waitFor("the shipper to report NATS down", () => readShipStatus(frame.root)?.state === "down");
      await nats.start();
      const { stream, journal } = await waitShipped(nats.url, "node-f", frame.root, 120_000);
      assertSameRows(stream, journal);
    }, { driver: "fake", command: shippingDaemon(nats.url, "node-f") });
  });
});

test.run();
