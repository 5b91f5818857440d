// Issue 11 point 9: `--rm` is part of the container's journaled config and done by the daemon,
// when the container stops, whoever stopped it, also across a daemon restart (runc driver).
import fs from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { containerStream, type StoredEvent } from "../src/events/catalogue.js";
import { mountsUnder } from "../src/vm/hostcalls.js";
import { containerDir } from "../src/vm/paths.js";
import { initMonitor, recordedExitOf } from "./helpers/monitor.js";
import { berth, berthLive, bin, ensureBuilt, journalHead, runcList, tempRoot, waitFor, withDaemon } from "./helpers/cli-env.js";
import { journalEvents, withDaemon as withDaemonFrame } from "./helpers/daemon.js";

const streamOf = async (root: string, id: string) => (await journalEvents(root)).filter((e) => e.streamId === containerStream(id));

/** The daemon's own ContainerDeleted, caused by the ContainerCreated that asked for --rm. */
function assertAutoRemoved(events: StoredEvent[], daemonPid: number): void {
  const created = events.filter((e) => e.type === "ContainerCreated").at(-1)!;
  const deleted = events.at(-1)!;
  assert.is(deleted.type, "ContainerDeleted");
  assert.is(deleted.actor?.pid, daemonPid, "the daemon deleted it");
  assert.is(deleted.causationId, created.eventId, "caused by the create that asked for --rm");
  assert.is(deleted.correlationId, created.commandId, "correlated with the create's command");
  assert.is(deleted.commandId, undefined, "no client command");
}

test("run -d --rm: the daemon removes the container when it exits, and history says so", () =>
  withDaemon(async (root, daemon) => {
    const r = await berth(root, ["run", "-d", "--rm", "--name", "r1", "busybox", "sh", "-c", "sleep 0.5; exit 4"]);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, "r1\n");
    await waitFor("the auto-remove", async () => (await streamOf(root, "r1")).at(-1)?.type === "ContainerDeleted");
    const events = await streamOf(root, "r1");
    assertAutoRemoved(events, daemon.child.pid!);
    assert.is((events.find((e) => e.type === "ProcessExited")!.data as { exitCode: number }).exitCode, 4);
    const history = (await berth(root, ["history", "r1"])).stdout.trim().split("\n");
    assert.match(history[1]!, /created from image busybox: .* \(--rm\)$/);
    const createdBy = events.find((e) => e.type === "ContainerCreated")!.commandId!;
    assert.match(history.at(-1)!, new RegExp(`uid 0 pid ${daemon.child.pid} +deleted by the daemon \\(--rm, caused by the create request ${createdBy}\\)$`));
    assert.is((await berth(root, ["ls", "-a", "-q"])).stdout, "");
    assert.equal(runcList(root), []);
    assert.not.ok(fs.existsSync(containerDir(root, "r1")));
  }));

test("rm -f of a running --rm container is the client's delete, and succeeds", () =>
  withDaemon(async (root, daemon) => {
    assert.is((await berth(root, ["run", "-d", "--rm", "--name", "f1", "busybox", "sleep", "1000"])).code, 0);
    const rm = await berth(root, ["rm", "-f", "f1"]);
    assert.is(rm.code, 0, rm.stderr);
    const deleted = (await streamOf(root, "f1")).at(-1)!;
    assert.is(deleted.type, "ContainerDeleted");
    assert.ok(deleted.commandId !== undefined && deleted.actor?.pid !== daemon.child.pid, "the client's own delete");
    assert.equal(runcList(root), []);
  }));

test("--rm with a restart policy is refused as docker refuses it, by the CLI and by the daemon", () =>
  withDaemon(async (root, daemon) => {
    const head = await journalHead(root);
    const r = await berth(root, ["run", "--rm", "--restart", "always", "busybox", "true"]);
    assert.is(r.code, 125);
    assert.match(r.stderr, /^berth: invalidArgument: Conflicting options: --restart and --rm/);
    const rc = await daemon.client("x");
    try {
      await rc.createContainer({ init: { args: ["true"] }, autoRemove: true, restart: { name: "on-failure" } });
      assert.unreachable("the daemon accepted autoRemove with a restart policy");
    } catch (err) {
      assert.is((err as { code?: string }).code, "invalidArgument");
      assert.match((err as Error).message, /Conflicting options: --restart and --rm/);
    } finally {
      rc.close();
    }
    assert.equal(await journalHead(root), head, "nothing was journaled");
  }));

test("attached run --rm prints the output, exits with the container's code, and the daemon's delete has committed", () =>
  withDaemon(async (root, daemon) => {
    const r = await berth(root, ["run", "--rm", "--name", "a1", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.is(r.code, 3, r.stderr);
    assert.is(r.stdout, "out\n");
    assert.is(r.stderr, "err\n");
    assertAutoRemoved(await streamOf(root, "a1"), daemon.child.pid!);
    assert.equal(runcList(root), []);
  }));

test("killing an attached run --rm leaves nothing behind: the daemon removes the container when it exits", () =>
  withDaemon(async (root, daemon) => {
    const cli = berthLive(root, ["run", "--rm", "--name", "k1", "busybox", "sh", "-c", "echo hi; sleep 1; exit 3"]);
    await waitFor("the container's first line", () => cli.stdout() === "hi\n");
    cli.child.kill("SIGKILL");
    await cli.exited;
    await waitFor("the auto-remove", async () => (await streamOf(root, "k1")).at(-1)?.type === "ContainerDeleted");
    const events = await streamOf(root, "k1");
    assertAutoRemoved(events, daemon.child.pid!);
    assert.is((events.find((e) => e.type === "ProcessExited")!.data as { exitCode: number }).exitCode, 3);
    assert.equal(runcList(root), []);
  }));

test("after a daemon kill: a --rm container that stopped meanwhile is removed, and a run cut short holds no sandbox", () => {
  ensureBuilt();
  return withDaemonFrame(tempRoot(), async (daemon) => {
    const root = daemon.root;
    // d1 runs with --rm and ends while the daemon is down (the test ends it with SIGTERM then, so
    // however slow the machine, it cannot end before the kill); b1 and b2 are runs the kill cut
    // between bootstrap and start (b2 with --rm).
    const steps: [string, Record<string, unknown>, boolean][] = [
      ["b1", { init: { args: ["sleep", "1000"] } }, false],
      ["b2", { init: { args: ["sleep", "1000"] }, autoRemove: true }, false],
      ["d1", { init: { args: ["sh", "-c", "trap 'exit 5' TERM; while :; do sleep 0.1; done"] }, autoRemove: true }, true],
    ];
    let d1Pid: number | undefined;
    for (const [id, config, start] of steps) {
      const rc = await daemon.client(id);
      try {
        await rc.createContainer(config as never);
        await rc.bootstrap({ run: true });
        if (start) d1Pid = (await rc.startProcess(id) as { processes: Record<string, { pid?: number }> }).processes[id]!.pid;
      } finally {
        rc.close();
      }
    }
    await daemon.kill9();
    process.kill(d1Pid!, "SIGTERM");
    await waitFor("d1's exit while the daemon is down", () => recordedExitOf(root, "d1", "d1") !== undefined);
    await daemon.restart();
    const d1 = await streamOf(root, "d1");
    assert.equal(d1.slice(-3).map((e) => e.type), ["ProcessExited", "ContainerStopped", "ContainerDeleted"]);
    assert.is((d1.at(-3)!.data as { exitCode: number }).exitCode, 5);
    assertAutoRemoved(d1, daemon.daemon.child.pid!);
    assertAutoRemoved(await streamOf(root, "b2"), daemon.daemon.child.pid!);
    const b1 = await streamOf(root, "b1");
    assert.equal(b1.slice(-2).map((e) => e.type), ["ShutdownRequested", "ContainerShutdown"]);
    assert.is(JSON.parse((await berth(root, ["inspect", "b1"])).stdout)[0].status, "created");
    for (const id of ["d1", "b1", "b2"]) {
      await waitFor(`${id} to hold no conmon`, () => !initMonitor(root, id).alive);
      assert.equal(mountsUnder(containerDir(root, id)), [], `${id} holds no mounted rootfs`);
    }
    assert.equal(runcList(root), []);
    // b1's service, released by recovery, was gone before the start-up scan looked.
    assert.equal((await journalEvents(root)).filter((e) => e.type === "OrphanFound").map((e) => e.data), [], "no orphan journaled");
  }, { command: [bin, "daemon"] });
});

test.run();
