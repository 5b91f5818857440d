// conmon as each container's monitor (the conmon issue's acceptance), against the real runc
// driver and daemon: a container's processes are conmon's children, not the daemon's; a conmon
// killed while the daemon runs is noticed within 2 s (also in a burst), and the sandbox is gone;
// exits that happen while the daemon is dead are journaled with their real codes and times.
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ContainerState } from "../src/projections/container.js";
import { cgroupPids } from "../src/vm/cgroup-stats.js";
import { cgroupPath } from "../src/vm/paths.js";
import { initMonitor } from "./helpers/monitor.js";
import { journalEvents, pidAlive, runcList, tempRoot, waitFor, runContainer, withDaemon, type DaemonFrame } from "./helpers/daemon.js";

const ppidOf = (pid: number) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
};

/** Every process below `pid`, from the parent links in /proc. */
function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      parents.set(Number(name), ppidOf(Number(name)));
    } catch {
      // it exited while we looked
    }
  }
  const below = (p: number): number[] => [...parents].filter(([, parent]) => parent === p).flatMap(([child]) => [child, ...below(child)]);
  return below(pid);
}

async function stateOf(daemon: DaemonFrame, id: string): Promise<ContainerState | undefined> {
  const rc = await daemon.client(id);
  try {
    return await rc.state<ContainerState>().catch(() => undefined);
  } finally {
    rc.close();
  }
}

/** Kills a container's conmon and asserts that within 2 s it is lost with nothing of its sandbox left. */
async function killConmonAndCheck(daemon: DaemonFrame, id: string): Promise<void> {
  const { monitor } = initMonitor(daemon.root, id);
  const initPid = (await stateOf(daemon, id))!.pid!;
  process.kill(monitor!.pid, "SIGKILL");
  const killedAt = Date.now();
  const after = await waitFor(`${id} to be seen lost`, async () => {
    const s = await stateOf(daemon, id);
    return s && s.status === "stopped" ? s : undefined;
  }, 10_000);
  const seenIn = Date.now() - killedAt;
  assert.ok(seenIn < 2000, `${id}'s lost conmon was noticed in ${seenIn} ms`);
  assert.is(after.exitCode, 255);
  assert.not.ok(pidAlive(initPid) && !/ Z /.test(fs.readFileSync(`/proc/${initPid}/stat`, "utf8")), "init is dead");
  assert.equal(cgroupPids(cgroupPath(daemon.root, id)), [], "no process of its cgroup remains");
  assert.not.ok(runcList(daemon.root).includes(id), "runc no longer has it");
  const lost = (await journalEvents(daemon.root)).filter((e) => e.streamId === `container-${id}` && e.type === "ContainerLost");
  assert.is(lost.length, 1);
  assert.match((lost[0]!.data as { reason: string }).reason, /conmon \(pid \d+\) of process .* died without recording its exit/);
}

test("init and exec processes are conmon's children, never the daemon's", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const state = await runContainer(daemon, "kids", { init: { args: ["sleep", "1000"] } });
    const daemonPid = daemon.daemon.child.pid!;
    assert.is(ppidOf(state.pid!), state.runtime!.pid, "init's parent is conmon");
    assert.is(state.runtime!.monitor, "conmon");
    assert.is.not(ppidOf(state.runtime!.pid), daemonPid, "conmon is not the daemon's child");
    const rc = await daemon.client("kids");
    try {
      await rc.createProcess("e1", { args: ["sleep", "1000"] });
      await rc.startProcess("e1");
      const exec = (await rc.state<ContainerState>()).processes.e1!;
      assert.is.not(ppidOf(exec.pid!), daemonPid, "an exec'd process is not the daemon's child");
      assert.is(fs.readFileSync(`/proc/${ppidOf(exec.pid!)}/comm`, "utf8").trim(), "conmon");
      await rc.stop({ timeoutInSeconds: 0 });
    } finally {
      rc.close();
    }
  }));

test("a conmon killed while the daemon runs: within 2 s the container is lost and nothing of its sandbox remains", () =>
  withDaemon(tempRoot(), async (daemon) => {
    await runContainer(daemon, "victim", { init: { args: ["sleep", "1000"] } });
    await killConmonAndCheck(daemon, "victim");
  }));

test("a conmon killed during a 20-container burst is noticed within 2 s, and its cgroup is empty", () =>
  withDaemon(tempRoot(), async (daemon) => {
    await runContainer(daemon, "victim", { init: { args: ["sleep", "1000"] } });
    const burst = Array.from({ length: 20 }, (_, i) => runContainer(daemon, `b${i}`, { init: { args: ["sleep", "1000"] } }));
    await new Promise((r) => setTimeout(r, 100)); // the burst is under way
    await killConmonAndCheck(daemon, "victim");
    await Promise.all(burst);
  }));

test("kill -9 of the daemon while three containers exit (3, 137 by kill, 0): each exit is journaled with its code, within 50 ms of when it happened", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    const marks = fs.mkdtempSync(join(os.tmpdir(), "berth-marks-")); // outside the root, which no container may mount
    const mount = [{ source: marks, destination: "/marks", readOnly: false }];
    // Each exits as soon as it sees the go file (busybox's date has no %N, so the test records
    // when it wrote the file, as it records when it sent SIGKILL), and says that it went.
    const script = (code: number, name: string) => `while [ ! -e /marks/go ]; do sleep 0.01; done; touch /marks/${name}; exit ${code}`;
    await runContainer(daemon, "three", { init: { args: ["sh", "-c", script(3, "three")] }, mounts: mount });
    await runContainer(daemon, "zero", { init: { args: ["sh", "-c", script(0, "zero")] }, mounts: mount });
    const killed = await runContainer(daemon, "killed", { init: { args: ["sleep", "1000"] } });
    await daemon.kill9();
    const goAt = Date.now();
    fs.writeFileSync(join(marks, "go"), "");
    const killedAt = Date.now();
    process.kill(killed.pid!, "SIGKILL");
    await waitFor("the exits", () => fs.existsSync(join(marks, "three")) && fs.existsSync(join(marks, "zero")));
    await new Promise((r) => setTimeout(r, 500));
    await daemon.restart();
    const exitOf = async (id: string) => {
      const events = await journalEvents(root);
      return events.find((e) => e.streamId === `container-${id}` && e.type === "ProcessExited")!.data as { exitCode: number; exitedAt: number; signal?: string };
    };
    for (const [id, code, at] of [["three", 3, goAt], ["zero", 0, goAt], ["killed", 137, killedAt]] as const) {
      const exit = await exitOf(id);
      assert.is(exit.exitCode, code, id);
      // A file's mtime comes from the kernel's coarse clock, which runs up to a tick (4 ms) behind Date.now().
      assert.ok(exit.exitedAt >= at - 5 && exit.exitedAt - at <= 50, `${id}: exitedAt ${exit.exitedAt} is within 50 ms after ${at}`);
      assert.is((await stateOf(daemon, id))!.status, "stopped");
    }
    assert.is((await exitOf("killed")).signal, undefined, "a SIGKILL berth did not send is reported as its code alone");
    assert.equal(runcList(root), []);
    fs.rmSync(marks, { recursive: true, force: true });
  }));

test("a group SIGTERM to the daemon, a restart, and 20 parallel rm -f of adopted containers: nothing of them runs or writes afterwards", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    const ids = Array.from({ length: 20 }, (_, i) => `s${i}`);
    const states = await Promise.all(ids.map((id) => runContainer(daemon, id, { init: { args: ["sleep", "1000"] } })));
    // What a `timeout` wrapper does: SIGTERM to the daemon's whole process group (here: the daemon
    // and every process below it; the test runner shares the group). conmon is in a session of
    // its own, below PID 1, so it is not among them.
    const group = [daemon.daemon.child.pid!, ...descendantsOf(daemon.daemon.child.pid!)];
    assert.ok(states.every((s) => !group.includes(s.runtime!.pid)), "no conmon is in the daemon's group");
    for (const pid of group) process.kill(pid, "SIGTERM");
    await waitFor("the daemon to stop", () => daemon.daemon.child.exitCode !== null || daemon.daemon.child.signalCode !== null);
    assert.ok(states.every((s) => pidAlive(s.pid!)), "every container outlives its daemon");
    await daemon.restart();
    await Promise.all(ids.map(async (id) => {
      const rc = await daemon.client(id);
      try {
        await rc.delete({ force: true });
      } finally {
        rc.close();
      }
    }));
    for (const [i, id] of ids.entries()) {
      assert.equal(cgroupPids(cgroupPath(root, id)), [], `${id}: no process of its cgroup remains`);
      assert.not.ok(pidAlive(states[i]!.pid!) && !/ Z /.test(fs.readFileSync(`/proc/${states[i]!.pid!}/stat`, "utf8")), `${id}: init is dead`);
      assert.not.ok(fs.existsSync(join(root, "containers", id)), `${id}: nothing writes into the deleted container's directory`);
    }
    const events = await journalEvents(root);
    assert.equal(events.filter((e) => e.type === "ContainerLost"), [], "no container lost: each delete saw its kill");
    assert.equal(runcList(root), []);
  }));

test.run();
