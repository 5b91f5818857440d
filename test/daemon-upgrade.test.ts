// Upgrading into conmon: containers started by the last berth with a Node runtime service per
// container (commit PRE_CONMON, run from this repository's own history) are not marked lost by
// the new daemon. Recovery stops each cleanly through its old service's socket (init gets its
// stop signal and grace) and journals the exit that service recorded.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ContainerState } from "../src/projections/container.js";
import { journalEvents, pidAlive, runcList, tempRoot, waitFor, runContainer, withDaemon } from "./helpers/daemon.js";

/** The last commit whose containers ran under a Node runtime service. */
const PRE_CONMON = "493ddba";
const repo = join(import.meta.dirname, "..");

/** The old berth's sources, sharing this checkout's node_modules and built native addons. */
function oldBerth(): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(join(os.tmpdir(), "berth-old-"));
  const archive = spawnSync("git", ["archive", PRE_CONMON], { cwd: repo, maxBuffer: 256 * 1024 * 1024 });
  if (archive.status !== 0) throw new Error(`git archive ${PRE_CONMON} failed (the test needs the repository's history): ${archive.stderr}`);
  const untar = spawnSync("tar", ["-x", "-C", dir], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  for (const shared of ["node_modules", "native"]) {
    fs.rmSync(join(dir, shared), { recursive: true, force: true });
    fs.symlinkSync(join(repo, shared), join(dir, shared));
  }
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

test("containers of a runtime service from before conmon are stopped cleanly at upgrade, with their real exits, never lost", () => {
  const old = oldBerth();
  return withDaemon(tempRoot(), async (daemon) => {
    await daemon.restart({ command: ["--import", "tsx", join(old.dir, "src", "daemon", "main.ts")] });
    const trapping = await runContainer(daemon, "trapping", { init: { args: ["sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.1; done"] } });
    const stubborn = await runContainer(daemon, "stubborn", { init: { args: ["sleep", "1000"] }, stopTimeoutSeconds: 1 });
    assert.ok(trapping.runtime?.socket && !trapping.runtime.monitor, "the old daemon journals a runtime service");
    const services = [trapping.runtime!.pid, stubborn.runtime!.pid];
    await daemon.kill9();
    await daemon.restart(); // this checkout's daemon
    const events = await journalEvents(daemon.root);
    assert.equal(events.filter((e) => e.type === "ContainerLost"), [], "nothing is marked lost");
    const exitOf = (id: string) => events.find((e) => e.streamId === `container-${id}` && e.type === "ProcessExited")?.data as { exitCode: number } | undefined;
    assert.is(exitOf("trapping")?.exitCode, 7, "init got its stop signal and exited its own way");
    assert.is(exitOf("stubborn")?.exitCode, 137, "after its grace, SIGKILL");
    for (const id of ["trapping", "stubborn"]) {
      const own = events.filter((e) => e.streamId === `container-${id}`).map((e) => e.type);
      assert.equal(own.slice(-2), ["ProcessExited", "ContainerStopped"], id);
    }
    await waitFor("the old services to exit", () => services.every((pid) => !pidAlive(pid)));
    assert.equal(runcList(daemon.root), []);
    // The container runs again, now under conmon.
    const rc = await daemon.client("trapping");
    try {
      await rc.start();
      assert.is((await rc.state<ContainerState>()).runtime?.monitor, "conmon");
      await rc.stop({ timeoutInSeconds: 1 });
    } finally {
      rc.close();
    }
  }, { start: false }).finally(() => old.remove());
});

test.run();
