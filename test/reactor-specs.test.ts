// The reactor, specified: what each intent makes the daemon journal, in order and with its
// causation, through a real daemon and its runtime services with the fake driver, whose
// scripted programs (src/vm/fake-driver.ts) exit, ignore SIGTERM or fail on cue.
import fs from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { containerDir } from "../src/vm/paths.js";
import { type DaemonFrame, waitFor } from "./helpers/daemon.js";
import { configFor } from "./helpers/model.js";
import { fake, reactorSpec } from "./helpers/reactor.js";
import { rejection } from "./helpers/errors.js";
import type { ContainerConfigInput } from "../src/model/config.js";

const ID = "c1";

async function call<T>(d: DaemonFrame, fn: (rc: Awaited<ReturnType<DaemonFrame["client"]>>) => Promise<T>): Promise<T> {
  const rc = await d.client(ID);
  try {
    return await fn(rc);
  } finally {
    rc.close();
  }
}
const created = (config: ContainerConfigInput) => (d: DaemonFrame) => call(d, (rc) => rc.createContainer(config)).then(() => {});
const booted = (config: ContainerConfigInput) => async (d: DaemonFrame) => {
  await created(config)(d);
  await call(d, (rc) => rc.bootstrap());
};
const running = (config: ContainerConfigInput) => async (d: DaemonFrame) => {
  await booted(config)(d);
  await call(d, (rc) => rc.startProcess(ID));
};
const state = (d: DaemonFrame) => call(d, (rc) => rc.state());
const withConfig = (args: string[]) => ({ ...configFor(ID), init: { ...configFor(ID).init, args } });

test("bootstrap: the runtime service boots, and the outcome is caused by the request", () =>
  reactorSpec({
    given: { [ID]: [{ type: "ContainerCreated", data: { id: ID, config: configFor(ID) } }] },
    when: (d) => call(d, (rc) => rc.bootstrap()),
    then: ["BootstrapRequested", "ContainerBooted ← BootstrapRequested"],
    and: async (d) => {
      assert.is((await state(d)).status, "booted");
      assert.is((await state(d)).runtime?.monitor, "daemon", "the fake driver's sandbox is kept by the daemon");
    },
  }));

test("bootstrap that fails: BootstrapFailed with the driver's error, and the container is created again", () =>
  reactorSpec({
    given: { [ID]: [{ type: "ContainerCreated", data: { id: ID, config: withConfig(["fail-boot", "no", "sandbox"]) } }] },
    when: async (d) => {
      const err = await rejection(call(d, (rc) => rc.bootstrap()));
      assert.is(err.code, "unsupported");
      assert.match(err.message, /no sandbox/);
    },
    then: ["BootstrapRequested", "BootstrapFailed unsupported ← BootstrapRequested"],
    and: async (d) => assert.is((await state(d)).status, "created"),
  }));

test("start: init starts, and ProcessStarted is caused by the request", () =>
  reactorSpec({
    setup: booted(fake(["sleep"])),
    when: (d) => call(d, (rc) => rc.startProcess(ID)),
    then: ["ProcessStartRequested", "ProcessStarted c1 ← ProcessStartRequested"],
    and: async (d) => assert.is((await state(d)).status, "running"),
  }));

test("start that fails: ProcessStartFailed with the driver's error, and the container stays booted", () =>
  reactorSpec({
    setup: booted(fake(["fail-start", "cannot exec"])),
    when: async (d) => assert.match((await rejection(call(d, (rc) => rc.startProcess(ID)))).message, /cannot exec/),
    then: ["ProcessStartRequested", "ProcessStartFailed invalidArgument ← ProcessStartRequested"],
    and: async (d) => assert.is((await state(d)).status, "booted"),
  }));

test("stop, graceful: the signal is journaled before it is sent, init exits by it, and the stop completes", () =>
  reactorSpec({
    setup: running(fake(["sleep"])),
    when: (d) => call(d, (rc) => rc.stop({ signal: "SIGTERM", timeoutInSeconds: 10 })),
    then: ["StopRequested", "SignalSent SIGTERM ← StopRequested", "ProcessExited c1 143", "ContainerStopped ← StopRequested"],
    and: async (d) => assert.is((await state(d)).exitCode, 143),
  }));

test("stop, escalated: an init that ignores SIGTERM gets SIGKILL after the timeout, each signal journaled", () =>
  reactorSpec({
    setup: running(fake(["ignore-term"])),
    when: (d) => call(d, (rc) => rc.stop({ signal: "SIGTERM", timeoutInSeconds: 1 })),
    then: ["StopRequested", "SignalSent SIGTERM ← StopRequested", "SignalSent SIGKILL ← StopRequested", "ProcessExited c1 137", "ContainerStopped ← StopRequested"],
    and: async (d) => assert.is((await state(d)).exitCode, 137),
  }));

test("kill of init: the signal is the command's own event; the exit then completes a stop of its own", () =>
  reactorSpec({
    setup: running(fake(["sleep"])),
    when: (d) => call(d, (rc) => rc.kill(ID, "SIGKILL")),
    then: ["SignalSent SIGKILL", "ProcessExited c1 137", "ContainerStopped"],
    and: async (d) => assert.is((await state(d)).status, "stopped"),
  }));

test("pause, then unpause: each outcome is caused by its request", () =>
  reactorSpec({
    setup: running(fake(["sleep"])),
    when: async (d) => {
      await call(d, (rc) => rc.pause());
      assert.is((await state(d)).status, "paused");
      await call(d, (rc) => rc.unpause());
    },
    then: ["PauseRequested", "ContainerPaused ← PauseRequested", "UnpauseRequested", "ContainerUnpaused ← UnpauseRequested"],
    and: async (d) => assert.is((await state(d)).status, "running"),
  }));

test("shutdown of a booted container: its runtime service ends, and ContainerShutdown is caused by the request", () =>
  reactorSpec({
    setup: booted(fake(["sleep"])),
    when: (d) => call(d, (rc) => rc.shutdown()),
    then: ["ShutdownRequested", "ContainerShutdown ← ShutdownRequested"],
    and: async (d) => {
      const s = await state(d);
      assert.is(s.status, "created");
      assert.is(s.runtime, undefined, "no sandbox");
    },
  }));

test("delete of a stopped container: the service and the container's directory go", () =>
  reactorSpec({
    setup: async (d) => {
      await running(fake(["exit", "0"]))(d);
      await waitFor("init's exit", async () => (await state(d)).status === "stopped");
    },
    when: (d) => call(d, (rc) => rc.delete()),
    then: ["ContainerDeleted"],
    and: (d) => {
      assert.not.ok(fs.existsSync(containerDir(d.root, ID)), "no directory");
    },
  }));

test("init that exits by itself: the exit watcher journals it, and completeStop finishes the stop", () =>
  reactorSpec({
    setup: booted(fake(["exit", "3"])),
    when: (d) => call(d, (rc) => rc.startProcess(ID)),
    then: ["ProcessStartRequested", "ProcessStarted c1 ← ProcessStartRequested", "ProcessExited c1 3", "ContainerStopped"],
    and: async (d) => assert.is((await state(d)).exitCode, 3),
  }));

test("--rm: a container that stops is deleted by the daemon, caused by the create that asked for it", () =>
  reactorSpec({
    setup: booted(fake(["exit", "0"], { autoRemove: true })),
    when: (d) => call(d, (rc) => rc.startProcess(ID)),
    then: ["ProcessStartRequested", "ProcessStarted c1 ← ProcessStartRequested", "ProcessExited c1 0", "ContainerStopped", "ContainerDeleted ← ContainerCreated"],
    and: (d) => assert.not.ok(fs.existsSync(containerDir(d.root, ID)), "no directory"),
  }));

test("--rm: a container that cannot boot is deleted too", () =>
  reactorSpec({
    setup: created(fake(["fail-boot", "no", "sandbox"], { autoRemove: true })),
    when: (d) => rejection(call(d, (rc) => rc.bootstrap())),
    then: ["BootstrapRequested", "BootstrapFailed unsupported ← BootstrapRequested", "ContainerDeleted ← ContainerCreated"],
  }));

test("restart policy on-failure:2: two restarts, each shutdown → bootstrap → start, then the container stays stopped", () => {
  const cycle = ["ProcessExited c1 1", "ContainerStopped"];
  const again = (n: number) => [`RestartScheduled ${n}`, "ShutdownRequested", "ContainerShutdown ← ShutdownRequested", "BootstrapRequested", "ContainerBooted ← BootstrapRequested", "ProcessStartRequested", "ProcessStarted c1 ← ProcessStartRequested", ...cycle];
  return reactorSpec({
    setup: booted(fake(["exit", "1"], { restart: { name: "on-failure", maxRetries: 2 } })),
    when: (d) => call(d, (rc) => rc.startProcess(ID)),
    then: ["ProcessStartRequested", "ProcessStarted c1 ← ProcessStartRequested", ...cycle, ...again(1), ...again(2)],
    and: async (d) => {
      const s = await state(d);
      assert.is(s.status, "stopped");
      assert.is(s.restartCount, 2);
    },
  });
});

test.run();
