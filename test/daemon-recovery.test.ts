// Issue 5 acceptance 1-3: kill -9 the daemon, and nothing is lost (runc driver, real processes).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ContainerState } from "../src/projections/container.js";
import { auditTransitions } from "../src/projections/transitions.js";
import { containerStream } from "../src/events/catalogue.js";
import { Journal } from "../src/events/journal.js";
import { journalPath } from "../src/host/root-layout.js";
import { containerPaths, runcRoot } from "../src/vm/paths.js";
import { initMonitor, recordedExitOf } from "./helpers/monitor.js";
import { bootContainer, journalAfterKill, journalEvents, pidAlive, runcList, startDaemon, tempRoot, waitFor, withDaemon, type DaemonFrame } from "./helpers/daemon.js";

async function run(daemon: DaemonFrame, id: string, args: string[]): Promise<void> {
  const rc = await daemon.client(id);
  try {
    await rc.createContainer({ init: { args } });
    await rc.bootstrap();
    await rc.startProcess(id);
  } finally {
    rc.close();
  }
}

async function stateOf(daemon: DaemonFrame, id: string): Promise<ContainerState> {
  const rc = await daemon.client(id);
  try {
    return await rc.state();
  } finally {
    rc.close();
  }
}

test("an exit that happens while the daemon is down is journaled with its real code and time", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    await run(daemon, "sleeper", ["sh", "-c", "sleep 2; exit 7"]);
    await daemon.kill9();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 4000));
    const upAt = Date.now();
    await daemon.restart();
    const state = await stateOf(daemon, "sleeper");
    assert.is(state.status, "stopped");
    assert.is(state.exitCode, 7);
    assert.ok(state.finishedAt! > downAt && state.finishedAt! < upAt, `exitedAt ${state.finishedAt} falls inside the downtime ${downAt}..${upAt}`);
    const events = await journalEvents(root);
    const recovered = events.filter((e) => e.type === "DaemonRecovered");
    // conmon exits with its process, so there is nothing left to adopt: the exit file tells all.
    assert.equal(recovered.at(-1)?.data, { adopted: 0, exitsRecovered: 1, lost: 0, intentsResolved: 0 });
    assert.equal(auditTransitions(events), []);
    assert.is(events.filter((e) => e.type === "ProcessExited").length, 1, "the exit is journaled exactly once");
  }));

test("running containers are adopted after kill -9, then exec, stop and delete work normally", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    await run(daemon, "a1", ["sleep", "1000"]);
    await run(daemon, "a2", ["sleep", "1000"]);
    const monitorPids = ["a1", "a2"].map((id) => initMonitor(root, id).monitor!.pid);
    await daemon.kill9();
    await daemon.restart();
    for (const id of ["a1", "a2"]) assert.is((await stateOf(daemon, id)).status, "running");
    assert.equal(["a1", "a2"].map((id) => initMonitor(root, id).monitor!.pid), monitorPids, "the same conmons, none started twice");
    assert.ok(["a1", "a2"].every((id) => initMonitor(root, id).alive));
    assert.equal(runcList(root).sort(), ["a1", "a2"]);
    const rc = await daemon.client("a1");
    try {
      await rc.createProcess("e1", { args: ["sh", "-c", "exit 5"] });
      await rc.startProcess("e1");
      assert.is((await rc.wait("e1")).exitCode, 5);
      await rc.stop({ timeoutInSeconds: 1 });
      assert.is((await rc.state()).status, "stopped");
      await rc.delete();
    } finally {
      rc.close();
    }
    assert.equal(runcList(root), ["a2"]);
    const events = await journalEvents(root);
    assert.equal(events.filter((e) => e.type === "DaemonRecovered").at(-1)?.data, { adopted: 2, exitsRecovered: 0, lost: 0, intentsResolved: 0 });
    assert.equal(auditTransitions(events), []);
  }));

test("a conmon killed with its sandbox while the daemon is down is ContainerLost, exit 255", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    await run(daemon, "doomed", ["sleep", "1000"]);
    const state = await stateOf(daemon, "doomed");
    await daemon.kill9();
    const monitor = initMonitor(root, "doomed").monitor!.pid;
    process.kill(monitor, "SIGKILL");
    process.kill(state.pid!, "SIGKILL");
    await waitFor("conmon and init to die", () => !initMonitor(root, "doomed").alive && !pidAlive(state.pid!));
    await daemon.restart();
    const after = await stateOf(daemon, "doomed");
    assert.is(after.status, "stopped");
    assert.is(after.exitCode, 255);
    const events = await journalEvents(root);
    const lost = events.find((e) => e.type === "ContainerLost");
    assert.ok(lost, "a ContainerLost event");
    assert.match((lost!.data as { reason: string }).reason, new RegExp(`conmon \\(pid ${monitor}\\) is gone`));
    assert.equal(events.filter((e) => e.type === "DaemonRecovered").at(-1)?.data, { adopted: 0, exitsRecovered: 0, lost: 1, intentsResolved: 0 });
    assert.equal(runcList(root), []);
    assert.equal(auditTransitions(events), []);
  }));

/**
 * Leaves what a daemon that died right after journaling init's exit leaves. With the daemon
 * down, init is killed and conmon records the exit; the test then does what the daemon does,
 * journal ProcessExited from that record. Only the ContainerStopped (and the teardown) is missing.
 */
async function crashAfterExitJournaled(root: string, daemon: DaemonFrame, id: string): Promise<void> {
  const { pid } = await stateOf(daemon, id);
  await daemon.kill9();
  process.kill(pid!, "SIGKILL");
  const record = await waitFor("init's exit record", () => recordedExitOf(root, id, id));
  const journal = await Journal.open(journalPath(root));
  try {
    journal.append(containerStream(id), [{ type: "ProcessExited", data: record }], journal.streamVersion(containerStream(id)), { actor: { uid: 0, gid: 0, pid: process.pid } });
  } finally {
    journal.close();
  }
}

{
  test("a daemon killed between init's ProcessExited and ContainerStopped: recovery tears down and stops it with the real code", () =>
    withDaemon(tempRoot(), async (daemon) => {
      const root = daemon.root;
      await run(daemon, "ended", ["sleep", "1000"]);
      await crashAfterExitJournaled(root, daemon, "ended");
      await daemon.restart();
      const after = await stateOf(daemon, "ended");
      assert.is(after.status, "stopped");
      assert.is(after.exitCode, 137);
      const events = await journalEvents(root);
      assert.equal(events.filter((e) => e.type === "ContainerLost"), [], "no ContainerLost: the exit is in the journal");
      const own = events.filter((e) => e.streamId === "container-ended").map((e) => e.type);
      assert.equal(own.slice(-2), ["ProcessExited", "ContainerStopped"]);
      assert.is(own.filter((t) => t === "ProcessExited").length, 1, "the exit is journaled once");
      assert.equal(events.filter((e) => e.type === "DaemonRecovered").at(-1)?.data, { adopted: 0, exitsRecovered: 0, lost: 0, intentsResolved: 0 });
      assert.equal(runcList(root), []);
      assert.equal(auditTransitions(events), []);
    }));
}

test("a start performed again after kill -9 journals when init really started, not when the daemon came back", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    await bootContainer(daemon, "late", { init: { args: ["sleep", "1000"] } });
    // What a daemon killed between ProcessStartRequested and ProcessStarted leaves: the intent in
    // the journal, and init started (`runc start`, as the reactor's effect runs it).
    await daemon.kill9();
    await journalAfterKill(root, containerStream("late"), [{ type: "ProcessStartRequested", data: { processId: "late" } }]);
    const before = Date.now();
    execFileSync("runc", ["--root", runcRoot(root), "start", "late"]);
    const after = Date.now();
    const started = { pid: Number(fs.readFileSync(`${containerPaths(root, "late").dir}/procs/late/pid`, "utf8")) };
    await new Promise((r) => setTimeout(r, 1500));
    const upAt = Date.now();
    await daemon.restart();
    const events = await journalEvents(root);
    const journaled = events.filter((e) => e.type === "ProcessStarted");
    assert.equal(journaled.map((e) => ({ ...e.data, startedAt: 0 })), [{ processId: "late", pid: started.pid, startedAt: 0 }], "the start is journaled once");
    const startedAt = (journaled[0]!.data as { startedAt: number }).startedAt;
    // When `runc start` ran (runc's state directory changed then): the start, not the recovery.
    assert.ok(startedAt >= before - 1 && startedAt <= after + 1 && startedAt < upAt - 1000, `startedAt ${startedAt} is the start (${before}..${after}), before the recovery at ${upAt}`);
    assert.is((await stateOf(daemon, "late")).startedAt, startedAt);
    assert.equal(events.filter((e) => e.type === "DaemonRecovered").at(-1)?.data, { adopted: 1, exitsRecovered: 0, lost: 0, intentsResolved: 1 });
    assert.equal(auditTransitions(events), []);
  }));

test("a stop of a container whose init never started, cut short by kill -9 after it tore the sandbox down, completes as a stop, not a loss", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    await bootContainer(daemon, "never", { init: { args: ["sleep", "1000"] } });
    // What a daemon killed inside the stop's effect leaves: the intent journaled, the sandbox
    // gone (runc deleted it, its conmon ended), and no exit recorded, as init never ran.
    await daemon.kill9();
    await journalAfterKill(root, containerStream("never"), [{ type: "StopRequested", data: { signal: "SIGTERM", timeoutInSeconds: 1 } }]);
    execFileSync("runc", ["--root", runcRoot(root), "delete", "--force", "never"]);
    await waitFor("the conmon of the deleted sandbox to end", () => !initMonitor(root, "never").alive);
    await daemon.restart();
    const events = await journalEvents(root);
    const own = events.filter((e) => e.streamId === "container-never").map((e) => e.type);
    assert.equal(own.slice(-2), ["StopRequested", "ContainerStopped"]);
    assert.not.ok(own.includes("ContainerLost"), `no loss: ${own.join(", ")}`);
    assert.equal(events.filter((e) => e.type === "DaemonRecovered").at(-1)?.data, { adopted: 0, exitsRecovered: 0, lost: 0, intentsResolved: 1 });
    assert.is((await stateOf(daemon, "never")).status, "stopped");
    assert.equal(auditTransitions(events), []);
  }));

test("a second daemon on the same root is refused with a clear error, and the first keeps serving", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    try {
      await startDaemon(root);
      assert.unreachable("a second daemon started");
    } catch (err) {
      assert.match((err as Error).message, /exists: journal .* is already open for writing by pid/);
    }
    const ipc = await daemon.ipc();
    try {
      assert.equal(((await ipc.call("ping", {})) as { pong: boolean }).pong, true);
    } finally {
      ipc.close();
    }
  }));

test.run();
