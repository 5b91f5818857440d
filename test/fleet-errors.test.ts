// Issue #17, bad input: an unreachable server, wrong credentials, a node name another journal
// holds, a stream whose messages for the node come from another journal, and a message with a
// wrong chain hash. Each is a clear typed error, visible in `journal stats`, and the local
// journal is untouched (it verifies, and commands go on).
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { headers } from "@nats-io/nats-core";
import { Kvm } from "@nats-io/kv";
import { openFleet, lastOfNode } from "../src/fleet/nats.js";
import { CLAIMS_BUCKET } from "../src/fleet/subject.js";
import { readShipStatus } from "../src/fleet/status.js";
import { berth, ensureBuilt } from "./helpers/cli-env.js";
import { tempRoot, waitFor, withDaemon, type DaemonFrame } from "./helpers/daemon.js";
import { lifecycle, shippingDaemon, streamRows, waitShipped } from "./helpers/fleet.js";
import { freePort, withNats } from "./helpers/nats.js";
import { tempDir } from "./helpers/tmp.js";

test.before(() => ensureBuilt());

const shipStats = async (root: string) => {
  const r = await berth(root, ["journal", "stats", "--format", "json"]);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).ship as { state: string; lagPositions: number; error?: { code: string; fault: string; message: string } };
};

/** The journal still verifies and the daemon still takes commands. */
async function untouched(frame: DaemonFrame): Promise<void> {
  await lifecycle(frame, `after-${Date.now()}`);
  const v = await berth(frame.root, ["journal", "verify"]);
  assert.is(v.code, 0, v.stderr);
}

const failedWith = (root: string, fault: string) => waitFor(`the shipper to fail with ${fault}`, () => readShipStatus(root)?.error?.fault === fault);

test("an unreachable server: commands go on, journal stats and info show NATS down and the lag", async () => {
  const port = await freePort();
  await withDaemon(tempRoot(), async (frame) => {
    await lifecycle(frame, "u1");
    await failedWith(frame.root, "unreachable");
    const ship = await shipStats(frame.root);
    assert.is(ship.state, "down");
    assert.is(ship.error?.code, "timeout");
    assert.match(ship.error!.message, "no NATS server answered");
    assert.ok(ship.lagPositions > 0, "the unshipped positions are the lag");
    const text = await berth(frame.root, ["journal", "stats"]);
    assert.match(text.stdout, /shipping as node node-u to nats:\/\/127\.0\.0\.1:\d+: down, acknowledged up to position 0, lag \d+ positions/);
    const info = await berth(frame.root, ["info"]);
    assert.match(info.stdout, /\n Fleet shipping: as node node-u to nats:\/\/127\.0\.0\.1:\d+: down, acknowledged up to position 0, lag \d+ positions \(\d+\.\d s\); timeout: .*no NATS server answered/, "berth info shows NATS down too");
    assert.is(JSON.parse((await berth(frame.root, ["info", "--format", "json"])).stdout).shipping.state, "down");
    await untouched(frame);
  }, { driver: "fake", command: shippingDaemon(`nats://127.0.0.1:${port}`, "node-u") });
  const target = tempRoot();
  try {
    const r = await berth(target, ["journal", "restore", "--from", `nats://127.0.0.1:${port}`, "--node", "node-u"]);
    assert.is.not(r.code, 0);
    assert.match(r.stderr, "no NATS server answered");
  } finally {
    fs.rmSync(target, { recursive: true, force: true });
  }
});

test("wrong credentials: the shipper stops with an auth error; restore says so too", async () => {
  await withNats(async (nats) => {
    await withDaemon(tempRoot(), async (frame) => {
      await failedWith(frame.root, "auth");
      const ship = await shipStats(frame.root);
      assert.is(ship.state, "failed");
      assert.match(ship.error!.message, "refused the credentials");
      await untouched(frame);
    }, { driver: "fake", command: shippingDaemon(nats.url, "node-c", ["--ship-user", "berth", "--ship-password", "wrong"]) });
  }, ["--user", "berth", "--pass", "right"]);
});

test("a second journal claiming a node name is refused; the stream keeps only the first journal's events", async () => {
  await withNats(async (nats) => {
    await withDaemon(tempRoot(), async (first) => {
      await lifecycle(first, "a1");
      await waitShipped(nats.url, "twin", first.root);
      await withDaemon(tempRoot(), async (second) => {
        await lifecycle(second, "b1");
        await failedWith(second.root, "nodeClaimed");
        const ship = await shipStats(second.root);
        assert.is(ship.state, "failed");
        assert.is(ship.error?.code, "exists");
        assert.match(ship.error!.message, /node name twin is claimed by journal [0-9a-f-]+ and this journal is [0-9a-f-]+/);
        await untouched(second);
      }, { driver: "fake", command: shippingDaemon(nats.url, "twin") });
      const ids = new Set((await streamRows(nats.url, "twin")).map((r) => r.nodeId));
      assert.is(ids.size, 1, "one journal's events");
    }, { driver: "fake", command: shippingDaemon(nats.url, "twin") });
  });
});

test("a stream whose messages for the node come from another journal stops the shipper", async () => {
  await withNats(async (nats) => {
    await withDaemon(tempRoot(), async (first) => {
      await lifecycle(first, "a1");
      await waitShipped(nats.url, "moved", first.root);
    }, { driver: "fake", command: shippingDaemon(nats.url, "moved") });
    // The claim is lost (an operator purged the bucket), so only the stream can tell.
    const fleet = await openFleet({ servers: nats.url }, "test");
    await (await new Kvm(fleet.nc).open(CLAIMS_BUCKET)).purge("moved");
    await fleet.nc.close();
    await withDaemon(tempRoot(), async (second) => {
      await failedWith(second.root, "otherNode");
      assert.match((await shipStats(second.root)).error!.message, /the stream's messages for node moved belong to journal [0-9a-f-]+, and this journal is/);
      await untouched(second);
    }, { driver: "fake", command: shippingDaemon(nats.url, "moved") });
  });
});

test("a message with a wrong chain hash in the stream: restore refuses and writes nothing", async () => {
  await withNats(async (nats) => {
    await withDaemon(tempRoot(), async (frame) => {
      await lifecycle(frame, "h1");
      await waitShipped(nats.url, "hashy", frame.root);
      await frame.stop();
    }, { driver: "fake", command: shippingDaemon(nats.url, "hashy") });
    const fleet = await openFleet({ servers: nats.url }, "test");
    const last = (await lastOfNode(fleet.jsm, "hashy"))!;
    const h = headers();
    const stored = await fleet.jsm.streams.getMessage("BERTH", { seq: last.seq });
    for (const k of stored!.header.keys()) if (k.startsWith("Berth-")) h.set(k, stored!.header.get(k));
    h.set("Berth-Position", String(last.row.position + 1));
    h.set("Berth-Stream-Version", String(last.row.version + 1));
    h.set("Berth-Chain-Hash", "00".repeat(32));
    await fleet.js.publish(stored!.subject, stored!.data, { headers: h });
    await fleet.nc.close();
    const dir = tempDir();
    try {
      const root = join(dir.path, "restored");
      const r = await berth(root, ["journal", "restore", "--from", nats.url, "--node", "hashy", "--root", root]);
      assert.is.not(r.code, 0);
      assert.match(r.stderr, `do not form a valid chain at position ${last.row.position + 1}`);
      assert.not.ok(fs.existsSync(root), "nothing was restored: no root and no empty journal file left behind");
    } finally {
      dir.remove();
    }
  });
});

test.run();
