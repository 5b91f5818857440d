// Issue #17, transports: shipping over TLS to a server with a self-signed certificate made by
// openssl, and to a 3-server JetStream cluster on loopback with a 3-replica stream, one server
// killed mid-shipping. Both end with the stream equal to the journal.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { STREAM_NAME, SUBJECT_ROOT } from "../src/fleet/subject.js";
import { tempRoot, withDaemon } from "./helpers/daemon.js";
import { assertSameRows, journalRows, lifecycle, shippingDaemon, streamRows, waitShipped } from "./helpers/fleet.js";
import { freePort, startNats, withNats, type NatsServer } from "./helpers/nats.js";
import { withTempDir } from "./helpers/tmp.js";
import { readShipStatus } from "../src/fleet/status.js";
import { waitFor } from "./helpers/daemon.js";

test("shipping over TLS to a server whose self-signed certificate the node trusts with --ship-ca", async () => {
  await withTempDir(async (dir) => {
    const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", cert], { stdio: "ignore" });
    await withNats(async (nats) => {
      const url = nats.url.replace("nats://", "tls://");
      await withDaemon(tempRoot(), async (frame) => {
        for (let i = 0; i < 5; i++) await lifecycle(frame, `t${i}`);
        await waitFor("the shipper to ship over TLS", () => readShipStatus(frame.root)?.state === "shipping");
        const head = (await journalRows(frame.root)).at(-1)!.position;
        await waitFor("the TLS shipper to catch up", () => readShipStatus(frame.root)!.acked >= head);
      }, { driver: "fake", command: shippingDaemon(url, "node-tls", ["--ship-ca", cert]) });
      // Without the CA the certificate is not trusted: the shipper says so instead of shipping.
      await withDaemon(tempRoot(), async (frame) => {
        await waitFor("the untrusting shipper to be down", () => readShipStatus(frame.root)?.state === "down");
        assert.match(readShipStatus(frame.root)!.error!.message, /certificate/i);
      }, { driver: "fake", command: shippingDaemon(url, "node-tls-2") });
    }, ["--tls", "--tlscert", cert, "--tlskey", key]);
  });
});

async function startCluster(): Promise<NatsServer[]> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const routes = ports.map((p) => `nats://127.0.0.1:${p}`).join(",");
  const servers: NatsServer[] = [];
  try {
    for (let i = 0; i < 3; i++) servers.push(await startNats(["-n", `s${i}`, "--cluster_name", "berth", "--cluster", `nats://127.0.0.1:${ports[i]}`, "--routes", routes]));
  } catch (err) {
    for (const s of servers) await s.stop();
    throw err;
  }
  return servers;
}

/** The fleet stream with 3 replicas, once the cluster has elected its JetStream leader. */
async function replicatedStream(urls: string): Promise<void> {
  const nc = await connect({ servers: urls.split(",") });
  try {
    await waitFor("the cluster to accept a 3-replica stream", async () => {
      const added = jetstreamManager(nc, { timeout: 5000 }).then((jsm) => jsm.streams.add({ name: STREAM_NAME, subjects: [`${SUBJECT_ROOT}.>`], num_replicas: 3 }));
      return added.then(() => true, () => new Promise((r) => setTimeout(() => r(false), 500)));
    }, 60_000);
  } finally {
    await nc.close();
  }
}

test("a 3-server cluster with 3 replicas: one server killed mid-shipping, nothing lost", async () => {
  const servers = await startCluster();
  try {
    const urls = servers.map((s) => s.url).join(",");
    await replicatedStream(urls);
    await withDaemon(tempRoot(), async (frame) => {
      for (let i = 0; i < 10; i++) await lifecycle(frame, `k${i}`);
      await servers[0]!.kill9();
      for (let i = 10; i < 20; i++) await lifecycle(frame, `k${i}`);
      const rest = servers.slice(1).map((s) => s.url).join(",");
      const { stream, journal } = await waitShipped(rest, "node-k", frame.root, 120_000);
      assertSameRows(stream, journal);
      assert.equal(stream, await streamRows(rest, "node-k"));
    }, { driver: "fake", command: shippingDaemon(urls, "node-k") });
  } finally {
    for (const s of servers) await s.stop();
  }
});

test.run();
