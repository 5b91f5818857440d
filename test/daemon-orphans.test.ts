// Issue 11 point 4: the start-up scan for what the journal does not know (runc driver, the real
// `berth` binary and daemon), and `system prune`: plain prune removes stopped containers and
// never kills; `--orphans` kills and removes orphans, after a confirmation that -f skips.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { findOrphans, orphanKey } from "../src/daemon/orphans.js";
import type { Orphan } from "../src/events/catalogue.js";
import type { ContainerState } from "../src/projections/container.js";
import type { HostInventory } from "../src/vm/host-inventory.js";
import { mountsUnder } from "../src/vm/hostcalls.js";
import { initMonitor } from "./helpers/monitor.js";
import { berth, bin, ensureBuilt, startCliDaemon } from "./helpers/cli-env.js";
import { journalEvents, pidAlive, runcList, tempRoot, waitFor, withDaemon } from "./helpers/daemon.js";

/** The journal is lost between two runs of the daemon: moved away with its WAL. */
function loseJournal(root: string): void {
  for (const suffix of ["", "-wal", "-shm"]) {
    const file = join(root, `journal.db${suffix}`);
    if (fs.existsSync(file)) fs.renameSync(file, `${file}.lost`);
  }
}

const found = async (root: string) => (await journalEvents(root)).filter((e) => e.type === "OrphanFound").map((e) => (e.data as { orphan: Orphan }).orphan);

test("what the journal does not know is journaled as orphans at start, once; prune -f spares them, prune --orphans -f removes them", () => {
  ensureBuilt();
  return withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    assert.is((await berth(root, ["run", "-d", "--name", "ghost", "busybox", "sleep", "1000"])).code, 0);
    assert.is((await berth(root, ["run", "--name", "done", "busybox", "true"])).code, 0);
    const inspect = JSON.parse((await berth(root, ["inspect", "ghost"])).stdout)[0];
    const initPid = inspect.pid as number;
    const monitorPid = initMonitor(root, "ghost").monitor!.pid;
    await daemon.kill9();
    loseJournal(root);

    // The exits acknowledged in the lost journal prove the loss: a plain start is refused.
    const refused = await startCliDaemon(root).then(() => "started", (err: Error) => err.message);
    assert.match(refused, /the journal lost acknowledged events/);

    // Accepting the loss starts on an empty journal: the scan journals and logs every leftover.
    await daemon.restart({ command: [bin, "daemon", "--accept-journal-loss"] });
    const orphans = await found(root);
    assert.equal(orphans.map((o) => o.id), ["done", "ghost"]);
    const ghost = orphans.find((o) => o.id === "ghost")!;
    assert.equal(ghost.runc, { status: "running", pid: initPid });
    assert.is(ghost.monitor?.pid, monitorPid);
    assert.equal(ghost.mounts, [join(root, "containers", "ghost", "bundle", "rootfs")]);
    assert.is(ghost.directory, join(root, "containers", "ghost"));
    const done = orphans.find((o) => o.id === "done")!;
    assert.equal({ runc: done.runc, monitor: done.monitor, mounts: done.mounts }, { runc: undefined, monitor: undefined, mounts: [] });
    assert.is(done.directory, join(root, "containers", "done"));
    assert.match(daemon.daemon.output(), /orphan ghost \(a container the journal does not know\): runc container \(running, pid \d+\), monitor pid \d+/);
    const info = await berth(root, ["system", "info"]);
    assert.match(info.stdout, / Orphans: 2 /);

    // A second start with nothing changed logs them again but journals nothing new.
    await daemon.stop();
    await daemon.restart();
    assert.is((await found(root)).length, 2, "the same orphans are not journaled twice");
    assert.match(daemon.daemon.output(), /orphan ghost .*at an earlier start/);

    // Plain prune removes a stopped container the journal knows, and leaves the running orphan alone.
    assert.is((await berth(root, ["run", "--name", "fin", "busybox", "true"])).code, 0);
    const plain = await berth(root, ["system", "prune", "-f"]);
    assert.is(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /Deleted Containers:\nfin\n/);
    assert.not.match(plain.stdout, /ghost/);
    assert.equal((await berth(root, ["ls", "-a", "-q"])).stdout, "");
    assert.ok(pidAlive(initPid) && pidAlive(monitorPid), "plain prune killed nothing");
    assert.equal(runcList(root), ["ghost"]);

    // --orphans asks first; without a terminal and without -f it refuses.
    const asked = await berth(root, ["system", "prune", "--orphans"]);
    assert.is(asked.code, 125);
    assert.match(asked.stderr, /asks for confirmation, but stdin is not a terminal: pass -f/);
    assert.ok(pidAlive(initPid), "a refused prune killed nothing");

    const forced = await berth(root, ["system", "prune", "--orphans", "-f"]);
    assert.is(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /Removed Orphans:\n(done|ghost) .*\n(done|ghost) /);
    assert.equal(runcList(root), []);
    await waitFor("the orphan's init and runtime service to be gone", () => !pidAlive(initPid) && !pidAlive(monitorPid));
    assert.equal(mountsUnder(join(root, "containers")), []);
    assert.equal(fs.readdirSync(join(root, "containers")), []);
    const events = await journalEvents(root);
    const removed = events.filter((e) => e.type === "OrphanRemoved");
    assert.equal(removed.map((e) => [(e.data as { id: string }).id, (e.data as { how: string }).how]).sort(), [["done", "pruned"], ["ghost", "pruned"]]);
    assert.ok(removed.every((e) => e.actor?.pid !== daemon.daemon.child.pid), "prune is journaled with the CLI as its actor");
    assert.match((await berth(root, ["system", "info"])).stdout, / Orphans: 0\n/);
  }, { command: [bin, "daemon"] });
});

test("the scan's rule: the journal's sandboxes are recovery's; a stopped container's live parts are orphans, its files are not", () => {
  const state = (status: string) => ({ status }) as unknown as ContainerState;
  const projection = { position: 9, containers: { up: state("running"), old: state("stopped"), idle: state("stopped") } };
  const host: HostInventory = {
    runc: [{ id: "up", status: "running", pid: 10 }, { id: "old", status: "running", pid: 11 }, { id: "idle", status: "stopped", pid: 0 }, { id: "stray", status: "stopped", pid: 0 }],
    directories: ["up", "old", "idle", "gone"],
    monitors: { up: { pid: 20, startTime: 1 }, old: { pid: 21, startTime: 2 } },
    mounts: { up: ["/r/containers/up/bundle/rootfs"], old: ["/r/containers/old/bundle/rootfs"] },
  };
  const orphans = findOrphans("/r", projection as never, host);
  assert.equal(orphans, [
    { id: "gone", known: false, mounts: [], directory: "/r/containers/gone" },
    { id: "old", known: true, mounts: ["/r/containers/old/bundle/rootfs"], runc: { status: "running", pid: 11 }, monitor: { pid: 21, startTime: 2 } },
    { id: "stray", known: false, mounts: [], runc: { status: "stopped", pid: 0 } },
  ]);
  assert.is(orphanKey(orphans[1]!), "old|known|runc:running:11|monitor:21:2|mounts:/r/containers/old/bundle/rootfs");
  assert.is.not(orphanKey(orphans[1]!), orphanKey({ ...orphans[1]!, monitor: { pid: 21, startTime: 3 } }), "another process is another orphan");
});

test.run();
