// Stop through the real `berth` binary and a real daemon (runc driver), on an init that ignores
// SIGTERM: the grace is the one the decider resolved (-t, else the container's stop timeout),
// and every deadline on the way is sized from it (src/model/budget.ts), so no wait gives up early.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, withDaemon } from "./helpers/cli-env.js";
import { journalEvents } from "./helpers/daemon.js";

const STUBBORN = ["busybox", "sh", "-c", "trap '' TERM; sleep 1000"];

/** The stop request and the signals it sent, from the container's stream. */
async function stopOf(root: string, id: string) {
  const events = (await journalEvents(root)).filter((e) => e.streamId === `container-${id}`);
  const requested = events.find((e) => e.type === "StopRequested")!;
  const signalTime = (signal: string) => events.find((e) => e.type === "SignalSent" && (e.data as { signal: string }).signal === signal)?.time;
  return { grace: (requested.data as { timeoutInSeconds: number }).timeoutInSeconds, term: signalTime("SIGTERM"), kill: signalTime("SIGKILL") };
}

async function inspectInit(root: string, id: string) {
  const inspect = await berth(root, ["inspect", id]);
  assert.is(inspect.code, 0, inspect.stderr);
  const [c] = JSON.parse(inspect.stdout);
  return { status: c.status, exitCode: c.exitCode, signal: c.processes.find((p: { id: string }) => p.id === id).signal };
}

test("stop -t 8 of an init that ignores SIGTERM waits the 8 s, then SIGKILLs it: exit 137, no timeout", () =>
  withDaemon(async (root) => {
    const run = await berth(root, ["run", "-d", "--name", "s8", ...STUBBORN]);
    assert.is(run.code, 0, run.stderr);
    const stop = await berth(root, ["stop", "-t", "8", "s8"]);
    assert.is(stop.code, 0, stop.stderr);
    assert.is(stop.stderr, "");
    assert.equal(await inspectInit(root, "s8"), { status: "stopped", exitCode: 137, signal: "SIGKILL" });
    const { grace, term, kill } = await stopOf(root, "s8");
    assert.is(grace, 8);
    assert.ok(kill! - term! >= 8000, `SIGKILL ${kill! - term!} ms after SIGTERM`);
  }));

test("stop without -t uses the stop timeout the container was created with", () =>
  withDaemon(async (root) => {
    const create = await berth(root, ["create", "--name", "c3", "--stop-timeout", "3", ...STUBBORN]);
    assert.is(create.code, 0, create.stderr);
    const start = await berth(root, ["start", "c3"]);
    assert.is(start.code, 0, start.stderr);
    const stop = await berth(root, ["stop", "c3"]);
    assert.is(stop.code, 0, stop.stderr);
    assert.equal(await inspectInit(root, "c3"), { status: "stopped", exitCode: 137, signal: "SIGKILL" });
    const { grace, term, kill } = await stopOf(root, "c3");
    assert.is(grace, 3);
    assert.ok(kill! - term! >= 3000, `SIGKILL ${kill! - term!} ms after SIGTERM`);
  }));

test.run();
