// pause / unpause (issue 6): the cgroup freezer through the daemon and the runtime service,
// with the state machine's `paused` status (real runc).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { controllerDir } from "../src/vm/cgroup-stats.js";
import { containerStream } from "../src/events/catalogue.js";
import { cgroupPath, runcRoot } from "../src/vm/paths.js";
import { auditTransitions } from "../src/projections/transitions.js";
import { journalAfterKill, journalEvents, runContainer, tempRoot, withDaemon, type DaemonFrame } from "./helpers/daemon.js";
import { rejection } from "./helpers/errors.js";

const freezer = (root: string, id: string) => readFileSync(`${controllerDir("freezer", cgroupPath(root, id))}/freezer.state`, "utf8").trim();

test("pause freezes the container, exec and kill are refused while paused, unpause thaws it, and a paused container stops", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    const rc = await daemon.client("p");
    try {
      await rc.createContainer({ init: { args: ["sleep", "1000"] } });
      await rc.bootstrap();
      await rc.startProcess("p");
      await rc.pause();
      assert.is((await rc.state()).status, "paused");
      assert.is(freezer(root, "p"), "FROZEN");
      const exec = await rejection(rc.createProcess("x", { args: ["true"] }));
      assert.is(exec.code, "invalidState");
      assert.match(exec.message, /container p is paused, expected booted or running/);
      assert.is((await rejection(rc.kill("p", "SIGKILL"))).code, "invalidState");
      assert.is((await rejection(rc.pause())).code, "invalidState");
      await rc.unpause();
      assert.is((await rc.state()).status, "running");
      assert.is(freezer(root, "p"), "THAWED");
      await rc.pause();
      await rc.stop({ timeoutInSeconds: 1 });
      const stopped = await rc.state();
      assert.is(stopped.status, "stopped");
      assert.is(stopped.exitCode, 137);
    } finally {
      rc.close();
    }
    const events = await journalEvents(root);
    assert.equal(events.filter((e) => e.streamId === "container-p").map((e) => e.type).filter((t) => /Pause|Paused|Unpause/.test(t)), ["PauseRequested", "ContainerPaused", "UnpauseRequested", "ContainerUnpaused", "PauseRequested", "ContainerPaused"]);
    assert.equal(auditTransitions(events), []);
  }));

/** What a daemon killed between an intent and its outcome leaves: the intent journaled, and runc's verb done. */
async function intentPerformedUnjournaled(daemon: DaemonFrame, id: string, intent: "PauseRequested" | "UnpauseRequested"): Promise<void> {
  await daemon.kill9();
  await journalAfterKill(daemon.root, containerStream(id), [{ type: intent, data: {} }]);
  execFileSync("runc", ["--root", runcRoot(daemon.root), intent === "PauseRequested" ? "pause" : "resume", id]);
  await daemon.restart();
}

test("a pause or unpause that took effect before a kill -9 is journaled as what runc has, not refused", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    await runContainer(daemon, "f", { init: { args: ["sleep", "1000"] } });
    await intentPerformedUnjournaled(daemon, "f", "PauseRequested");
    let rc = await daemon.client("f");
    try {
      assert.is((await rc.state()).status, "paused");
      assert.is(freezer(root, "f"), "FROZEN");
      rc.close();
      await intentPerformedUnjournaled(daemon, "f", "UnpauseRequested");
      rc = await daemon.client("f");
      assert.is((await rc.state()).status, "running");
      assert.is(freezer(root, "f"), "THAWED");
      await rc.stop({ timeoutInSeconds: 1 });
    } finally {
      rc.close();
    }
    const events = (await journalEvents(root)).filter((e) => e.streamId === "container-f");
    const freezes = events.filter((e) => /Pause|Paused|Unpause/.test(e.type));
    assert.equal(freezes.map((e) => [e.type, e.data]), [["PauseRequested", {}], ["ContainerPaused", {}], ["UnpauseRequested", {}], ["ContainerUnpaused", {}]], "each outcome is what runc did, without an error");
    assert.equal(auditTransitions(events), []);
  }));

test.run();
