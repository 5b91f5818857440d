import fs from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cgroupDirs } from "../src/vm/paths.js";
import { readLogs } from "../src/vm/logs.js";
import { boot, cleanup, pidAlive, processLog, recordedExit, runcList, tempRoot, waitFor } from "./helpers/vm-sandbox.js";

test("init's stdout and stderr land in conmon's log with nanosecond times, and read back apart", async () => {
  const root = tempRoot();
  try {
    const c = await boot(root, "logs1", { init: { args: ["sh", "-c", "echo to-out; echo to-err >&2"] } });
    await c.client.startProcess("logs1");
    const exit = await c.client.wait("logs1");
    assert.is(exit.exitCode, 0);
    const files = processLog(root, "logs1");
    const raw = fs.readFileSync(files[0]!.path, "utf8");
    assert.match(raw, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00 stdout F to-out$/m);
    assert.match(raw, / stderr F to-err$/m);
    const entries = readLogs(files);
    assert.equal(entries.map((e) => e.line).sort(), ["to-err", "to-out"]);
    assert.ok(entries.every((e) => e.t > 1.6e12 && e.ts.length === 35), "entries carry ms and nanosecond times");
    assert.equal(readLogs(files, { stderr: false }).map((e) => e.line), ["to-out"]);
    c.client.close();
  } finally {
    await cleanup(root, ["logs1"]);
  }
});

test("exec returns the process's exit code, and SIGKILL resolves only once the exit is recorded", async () => {
  const root = tempRoot();
  try {
    const c = await boot(root, "exec1", { init: { args: ["sleep", "1000"] } });
    await c.client.startProcess("exec1");
    await c.client.createProcess("seven", { args: ["sh", "-c", "exit 7"] });
    await c.client.startProcess("seven");
    assert.is((await c.client.wait("seven")).exitCode, 7);

    await c.client.createProcess("sleeper", { args: ["sleep", "1000"] });
    const { pid } = await c.client.startProcess("sleeper");
    const killed = await c.client.kill("sleeper", "SIGKILL");
    assert.is(killed.exitCode, 137);
    assert.is(killed.signal, "SIGKILL");
    const rec = recordedExit(root, "exec1", "sleeper");
    assert.ok(rec, "conmon's exit file exists when kill returns");
    assert.is(rec!.exitCode, 137);
    assert.is(killed.pid, pid);
    c.client.close();
  } finally {
    await cleanup(root, ["exec1"]);
  }
});

test("exec before init is running is refused with invalidState", async () => {
  const root = tempRoot();
  try {
    const c = await boot(root, "early", { init: { args: ["sleep", "1000"] } });
    await c.client.createProcess("x", { args: ["true"] });
    try {
      await c.client.startProcess("x");
      assert.unreachable("should have been refused");
    } catch (err) {
      assert.is((err as { code: string }).code, "invalidState");
    }
    c.client.close();
  } finally {
    await cleanup(root, ["early"]);
  }
});

test("stop on an init that ignores SIGTERM escalates to SIGKILL after the timeout", async () => {
  const root = tempRoot();
  try {
    const c = await boot(root, "stubborn", { init: { args: ["sh", "-c", "trap '' TERM; sleep 1000"] } });
    await c.client.startProcess("stubborn");
    const state = await c.client.stop({ signal: "SIGTERM", timeoutInSeconds: 1 });
    assert.is(state.status, "stopped");
    assert.is(state.processes.stubborn!.exitCode, 137);
    assert.is(state.processes.stubborn!.signal, "SIGKILL");
    c.client.close();
  } finally {
    await cleanup(root, ["stubborn"]);
  }
});

test("shutdown leaves no runc container, cgroup, mount or process behind", async () => {
  const root = tempRoot();
  try {
    const c = await boot(root, "gone", { init: { args: ["sleep", "1000"] } });
    const { pid: initPid } = await c.client.startProcess("gone");
    await c.client.createProcess("bg", { args: ["sleep", "1000"] });
    const { pid: execPid } = await c.client.startProcess("bg");
    assert.equal(runcList(root), ["gone"]);
    assert.ok(cgroupDirs(root, "gone").some((d) => fs.existsSync(d)));
    await c.client.shutdown();
    c.client.close();
    await waitFor("conmon to exit", () => !pidAlive(c.endpoint.pid));
    assert.equal(runcList(root), []);
    for (const d of cgroupDirs(root, "gone")) assert.not.ok(fs.existsSync(d), `${d} removed`);
    assert.not.ok(pidAlive(initPid), "init is gone");
    assert.not.ok(pidAlive(execPid), "exec'd process is gone");
    assert.not.ok(fs.readFileSync("/proc/self/mountinfo", "utf8").includes(root), "no mount under the root");
  } finally {
    await cleanup(root, ["gone"]);
  }
});

test("bootstrap failures reach the caller as typed errors", async () => {
  const root = tempRoot();
  try {
    for (const [input, code] of [
      [{ rootfs: { path: "/nonexistent-rootfs" }, init: { args: ["true"] } }, "invalidArgument"],
      [{ rootfs: { image: "nosuchimage" }, init: { args: ["true"] } }, "notFound"],
      [{ init: { args: ["true"], rlimits: [{ type: "RLIMIT_NPROC", soft: 1, hard: 1e12 }] } }, "invalidArgument"],
    ] as const) {
      try {
        await boot(root, "bad", input as Record<string, unknown>);
        assert.unreachable("bootstrap should fail");
      } catch (err) {
        assert.is((err as { code: string }).code, code, (err as Error).message);
      }
    }
  } finally {
    await cleanup(root, ["bad"]);
  }
});

test.run();
