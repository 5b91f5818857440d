// Issue 5 acceptance 6: restart policies, journaled decisions, and the daemon restart rules.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ContainerConfigInput } from "../src/model/config.js";
import { containerStream, type EventOf, type StoredEvent } from "../src/events/catalogue.js";
import { auditTransitions } from "../src/projections/transitions.js";
import { journalEvents, tempRoot, waitFor, withDaemon, type DaemonFrame } from "./helpers/daemon.js";

async function run(daemon: DaemonFrame, id: string, config: ContainerConfigInput): Promise<void> {
  const rc = await daemon.client(id);
  try {
    await rc.createContainer(config);
    await rc.bootstrap();
    await rc.startProcess(id);
  } finally {
    rc.close();
  }
}

const ofContainer = (events: StoredEvent[], id: string) => events.filter((e) => e.streamId === containerStream(id));

test("on-failure:3 restarts a container that always exits 1 exactly three times, with growing delays", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    await run(daemon, "flaky", { init: { args: ["sh", "-c", "exit 1"] }, restart: { name: "on-failure", maxRetries: 3 } });
    const settled = async () => {
      const events = ofContainer(await journalEvents(root), "flaky");
      const last = events.at(-1);
      return events.filter((e) => e.type === "ContainerStopped").length === 4 && last?.type === "ContainerStopped" ? events : undefined;
    };
    const events = await waitFor("the fourth and final stop", settled, 120_000);
    await new Promise((r) => setTimeout(r, 1500)); // a fourth restart would be scheduled by now
    const final = ofContainer(await journalEvents(root), "flaky");
    const restarts = final.filter((e): e is StoredEvent<EventOf<"RestartScheduled">> => e.type === "RestartScheduled").map((e) => e.data);
    assert.equal(restarts, [{ attempt: 1, delayMs: 100 }, { attempt: 2, delayMs: 200 }, { attempt: 3, delayMs: 400 }]);
    assert.is(final.length, events.length, "nothing happened after the last stop");
    assert.is(final.filter((e) => e.type === "ProcessStarted").length, 4);
    const rc = await daemon.client("flaky");
    try {
      const state = await rc.state();
      assert.is(state.status, "stopped");
      assert.is(state.exitCode, 1);
      assert.is(state.restartCount, 3);
    } finally {
      rc.close();
    }
    assert.equal(auditTransitions(await journalEvents(root)), []);
  }));

test("after a daemon restart, a stopped `always` container comes back and a stopped `unless-stopped` one does not", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    await run(daemon, "always", { init: { args: ["sleep", "1000"] }, restart: { name: "always" } });
    await run(daemon, "unless", { init: { args: ["sleep", "1000"] }, restart: { name: "unless-stopped" } });
    for (const id of ["always", "unless"]) {
      const rc = await daemon.client(id);
      await rc.stop({ timeoutInSeconds: 0 });
      rc.close();
    }
    await new Promise((r) => setTimeout(r, 500));
    const stoppedBoth = ofContainer(await journalEvents(root), "always").filter((e) => e.type === "RestartScheduled").length;
    assert.is(stoppedBoth, 0, "a user stop is never undone by the policy");
    await daemon.stop();
    await daemon.restart();
    const state = async (id: string) => {
      const rc = await daemon.client(id);
      try {
        return await rc.state();
      } finally {
        rc.close();
      }
    };
    assert.is((await state("always")).status, "running");
    assert.is((await state("unless")).status, "stopped");
    assert.equal(auditTransitions(await journalEvents(root)), []);
  }));

test.run();
