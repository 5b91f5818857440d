// Issue 16: kill -9 of the daemon while containers join and leave the bridge. Some kills land
// between a CNI ADD and its journaled NetworkAttached (the test waits for the ADD's record to
// appear and kills at once); recovery must DEL what the journal does not know, keep what it
// does, and leave no lease, veth, namespace or portmap rule without a running container.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { containerIdOf, type StoredEvent } from "../src/events/catalogue.js";
import { networkPaths } from "../src/vm/paths.js";
import { berth, berthLive } from "./helpers/cli-env.js";
import { journalEvents } from "./helpers/daemon.js";
import { holdings, httpd, withNetDaemon } from "./helpers/network.js";
import { random as seeded } from "./helpers/random.js";

const CYCLES = 30;

/** Per container, the address its last NetworkAttached gave, unless a NetworkDetached followed. */
function journaledAddresses(events: StoredEvent[]): Map<string, string> {
  const held = new Map<string, string>();
  for (const e of events) {
    const id = containerIdOf(e.streamId);
    if (!id) continue;
    if (e.type === "NetworkAttached") held.set(id, (e.data as { address: string }).address.split("/")[0]!);
    if (e.type === "NetworkDetached" || e.type === "ContainerDeleted") held.delete(id);
  }
  return held;
}

const recordPath = (root: string, id: string) => join(networkPaths(root).attachments, id, "bridge.json");

async function running(root: string): Promise<string[]> {
  return (await berth(root, ["ps", "-q", "--no-trunc"])).stdout.split("\n").filter(Boolean);
}

test(`${CYCLES} kill -9 cycles during run -d and rm -f on the bridge: nothing leaks, and what runs is reachable at its journaled address`, () =>
  withNetDaemon(async (root, frame) => {
    const random = seeded(16);
    // The leak check must see a leak: a lease planted where host-local keeps them.
    const bridge = JSON.parse((await berth(root, ["network", "inspect", "bridge"])).stdout)[0].Options["com.docker.network.bridge.name"] as string;
    const leaseDir = join(networkPaths(root).ipam, bridge);
    fs.mkdirSync(leaseDir, { recursive: true });
    fs.writeFileSync(join(leaseDir, "10.89.0.250"), "planted\r\neth0");
    assert.equal(holdings(root).leases.map((l) => l.containerId), ["planted"], "the leak check sees a planted lease");

    let betweenAddAndEvent = 0;
    let duringTeardown = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      await frame.restart();
      const id = `c${cycle}`;
      const runs = berthLive(root, ["run", "-d", "--name", id, ...(cycle % 2 ? ["-p", "80"] : []), "busybox", ...httpd(id)]);
      let victims: string[] = [];
      let removals: ReturnType<typeof berthLive> | undefined;
      if (cycle % 3 === 0) {
        // Kill the moment the ADD has begun: its record is on disk, its event cannot be yet.
        await pollUntil(() => fs.existsSync(recordPath(root, id)), 10_000);
      } else if (cycle % 3 === 1) {
        // This one runs; an older one is being removed when the kill comes.
        await runs.exited;
        victims = (await running(root)).filter((v) => v !== id).slice(0, 1);
        removals = victims.length ? berthLive(root, ["rm", "-f", ...victims]) : undefined;
        await sleep(random.int(400));
      } else {
        await sleep(100 + random.int(900));
      }
      await frame.kill9();
      await Promise.all([runs.exited, removals?.exited]);
      const journaled = journaledAddresses(await journalEvents(root));
      if (fs.existsSync(recordPath(root, id)) && !journaled.has(id)) betweenAddAndEvent++;
      for (const v of victims) if (journaled.has(v) && !fs.existsSync(recordPath(root, v))) duringTeardown++;
    }
    assert.ok(betweenAddAndEvent > 0, "some kills landed between a CNI ADD and its journaled event");

    await frame.restart();
    const live = await running(root);
    const journaled = journaledAddresses(await journalEvents(root));
    const left = holdings(root);
    assert.equal(left.leases.map((l) => l.containerId).sort(), [...live].sort(), "a lease per running container, the planted one gone");
    assert.equal([...left.namespaces].sort(), [...live].sort(), "a namespace per running container");
    assert.is(left.veths, live.length, "a veth per running container");
    assert.ok(left.portmapIds.every((id) => live.includes(id)), `portmap rules only of running containers: ${left.portmapIds}`);
    assert.equal(left.ruleBridges, left.bridges, "isolation and masquerade rules for each bridge in use, and only those");
    assert.ok(live.length > 0, "some containers survived the storm");
    for (const id of live) {
      const address = journaled.get(id);
      assert.ok(address, `${id} runs and has a journaled address`);
      // From the host to a container this test made, over its bridge.
      assert.is(await (await fetch(`http://${address}/`, { signal: AbortSignal.timeout(10_000) })).text(), `${id}\n`);
      assert.is((await berth(root, ["history", id])).stdout.includes(`attached to bridge as ${address}`), true);
    }
    console.log(`kills between an ADD and its event: ${betweenAddAndEvent}, during a teardown: ${duringTeardown}, running after: ${live.length}`);
  }, "crash storm"));

async function pollUntil(fn: () => boolean, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error("the ADD never began");
    await sleep(1);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.run();
