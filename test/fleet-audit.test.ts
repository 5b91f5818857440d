// Issue #17, fleet audit through the real `berth` binary: two nodes ship to one server, and
// `events --fleet` shows each node's events labelled with the node, `history --fleet` prints
// what the local `history` prints, and `events --fleet -f` started before a burst shows every
// event exactly once across the hand-over from the backlog to the live tail.
import { spawn } from "node:child_process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, bin, ensureBuilt } from "./helpers/cli-env.js";
import { tempRoot, waitFor, withDaemon, type DaemonFrame } from "./helpers/daemon.js";
import { journalRows, lifecycle, shippingDaemon, waitShipped } from "./helpers/fleet.js";
import { withNats } from "./helpers/nats.js";

test.before(() => ensureBuilt());

const json = (stdout: string) => stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { position: number; node?: string; type: string });

test("two nodes: events --fleet labels each node's events, and history --fleet matches the local history", async () => {
  await withNats(async (nats) => {
    const node = (name: string, fn: (frame: DaemonFrame) => Promise<void>) => withDaemon(tempRoot(), fn, { driver: "fake", command: shippingDaemon(nats.url, name) });
    await node("alpha", async (alpha) => {
      await node("beta", async (beta) => {
        for (const frame of [alpha, beta]) {
          await lifecycle(frame, "other");
          await lifecycle(frame, "shared");
        }
        await waitShipped(nats.url, "alpha", alpha.root);
        await waitShipped(nats.url, "beta", beta.root);
        const fleet = await berth(alpha.root, ["events", "--fleet", nats.url, "--filter", "container=shared", "--format", "json"]);
        assert.is(fleet.code, 0, fleet.stderr);
        const all = json(fleet.stdout);
        for (const [name, frame] of [["alpha", alpha], ["beta", beta]] as const) {
          const local = json((await berth(frame.root, ["events", "--filter", "container=shared", "--format", "json"])).stdout);
          assert.ok(local.length >= 5);
          assert.equal(all.filter((e) => e.node === name).map((e) => e.position), local.map((e) => e.position), `${name}'s events, from the stream`);
        }
        assert.is(all.length, all.filter((e) => e.node === "alpha" || e.node === "beta").length, "every event is labelled with its node");
        const text = await berth(alpha.root, ["events", "--fleet", nats.url, "--node", "beta", "--filter", "container=shared"]);
        assert.ok(text.stdout.trim().split("\n").every((l) => l.startsWith("beta  ")), text.stdout);
        for (const [name, frame] of [["alpha", alpha], ["beta", beta]] as const) {
          const local = await berth(frame.root, ["history", "shared"]);
          const remote = await berth(frame.root, ["history", "--fleet", nats.url, "--node", name, "shared"]);
          assert.is(remote.code, 0, remote.stderr);
          assert.is(remote.stdout, local.stdout, `${name}'s history from the stream`);
        }
        const noNode = await berth(alpha.root, ["history", "--fleet", nats.url, "shared"]);
        assert.is.not(noNode.code, 0);
        assert.match(noNode.stderr, "needs --node");
      });
    });
  });
});

test("events --fleet -f started before a burst shows every event exactly once, backlog and live tail", async () => {
  await withNats(async (nats) => {
    await withDaemon(tempRoot(), async (frame) => {
      for (let i = 0; i < 3; i++) await lifecycle(frame, `before-${i}`);
      await waitShipped(nats.url, "gamma", frame.root);
      const child = spawn(process.execPath, [bin, "events", "--fleet", nats.url, "--node", "gamma", "-f", "--format", "json"], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      const exited = new Promise((r) => child.once("exit", r));
      try {
        const backlog = (await journalRows(frame.root)).length;
        await waitFor("the backlog", () => json(stdout).length >= backlog || child.exitCode !== null);
        await Promise.all([0, 1].map(async (lane) => {
          for (let i = 0; i < 5; i++) await lifecycle(frame, `burst-${lane}-${i}`);
        }));
        const { journal } = await waitShipped(nats.url, "gamma", frame.root);
        const head = journal.at(-1)!.position;
        await waitFor("the live tail", () => json(stdout).at(-1)?.position === head || child.exitCode !== null);
        assert.equal(json(stdout).map((e) => e.position), journal.map((r) => r.position), `no gap, no duplicate (${stderr})`);
      } finally {
        child.kill("SIGINT");
        await exited;
      }
    }, { driver: "fake", command: shippingDaemon(nats.url, "gamma") });
  });
});

test.run();
