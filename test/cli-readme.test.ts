// Acceptance 7: the README's two commands, run in a temporary copy of the tree. `npm start` as a
// smoke test (hello from berth, then that container's history); `npm test` on one quick file to
// check the summary line (the whole suite is what .ci/run runs).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cleanupDaemon, pidAlive, tempRoot, waitFor } from "./helpers/daemon.js";
import { repo } from "./helpers/cli-env.js";

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/**
 * A copy of the working tree without .git and dist. node_modules is copied, never linked: the
 * copy's setup may run `npm ci`, which must not touch the checkout's own packages. Timestamps are
 * kept so setup sees the installed stamp as fresh and skips the ~2 min native build.
 */
function copyTree(): string {
  const dir = fs.mkdtempSync(join(os.tmpdir(), "berth-clone-"));
  fs.cpSync(repo, dir, {
    recursive: true,
    preserveTimestamps: true,
    verbatimSymlinks: true,
    filter: (src) => !/^\/(dist|\.git)(\/|$)/.test(src.slice(repo.length)),
  });
  return dir;
}

test("npm start brings berth up, says hello from a container, shows its history, and leaves the daemon running", async () => {
  const pkg = JSON.parse(fs.readFileSync(join(repo, "package.json"), "utf8"));
  assert.is(pkg.scripts?.start, "bash scripts/start.sh", "package.json needs \"start\": \"bash scripts/start.sh\"");
  const dir = copyTree();
  const root = tempRoot();
  const binDir = join(root, "bin"); // never the host's /usr/local/bin: this copy is deleted afterwards
  let daemonPid: number | undefined;
  try {
    const r = await sh("npm", ["start"], dir, { BERTH_ROOT: root, BERTH_BIN_DIR: binDir });
    if (fs.existsSync(join(root, "daemon.pid"))) daemonPid = Number(fs.readFileSync(join(root, "daemon.pid"), "utf8"));
    assert.is(r.code, 0, r.output);
    assert.match(r.output, /^hello from berth$/m);
    assert.match(r.output, /created from image busybox: echo hello from berth/);
    assert.match(r.output, /init exited with code 0/);
    assert.match(r.output, /deleted by the daemon \(--rm, caused by the create request [\w-]+\)\n/);
    assert.match(r.output, /Stop it with: kill \d+/);
    // `berth` on the PATH: the link, said so, and `berth --help` in a new shell.
    assert.ok(r.output.includes(`berth is on the PATH: linked ${binDir}/berth -> ${dir}/bin/berth.js`), r.output);
    const help = await sh("bash", ["-c", "berth --help"], dir, { PATH: `${binDir}:${process.env.PATH}` });
    assert.is(help.code, 0, help.output);
    assert.match(help.output, /^Usage: berth /);
    assert.ok(daemonPid && pidAlive(daemonPid), "the daemon keeps running");
    // A second start finds the daemon already serving.
    const again = await sh("npm", ["start"], dir, { BERTH_ROOT: root, BERTH_BIN_DIR: binDir });
    assert.is(again.code, 0, again.output);
    assert.match(again.output, /already serving/);
  } finally {
    if (daemonPid && pidAlive(daemonPid)) {
      process.kill(daemonPid, "SIGTERM");
      await waitFor("the daemon to stop", () => !pidAlive(daemonPid!), 30_000).catch(() => process.kill(daemonPid!, "SIGKILL"));
    }
    await cleanupDaemon(undefined, root);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("npm test ends with the summary line `N passed, N failed`", async () => {
  const dir = copyTree();
  try {
    const r = await sh("npm", ["test", "--", "cli-docs"], dir, {});
    assert.is(r.code, 0, r.output);
    assert.match(r.output.trimEnd().split("\n").pop()!, /^\d+ passed, 0 failed$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
