// Acceptance 1 and 2: the real `berth` binary against a real daemon with the runc driver.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, journalHead, runcList, withDaemon } from "./helpers/cli-env.js";
import { journalEvents } from "./helpers/daemon.js";

test("run --rm streams stdout and stderr apart, exits with the container's code, and leaves nothing behind", () =>
  withDaemon(async (root) => {
    const r = await berth(root, ["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.is(r.code, 3, r.stderr);
    assert.is(r.stdout, "out\n");
    assert.is(r.stderr, "err\n");
    const ls = await berth(root, ["ls", "-a", "-q"]);
    assert.is(ls.code, 0);
    assert.is(ls.stdout, "");
    assert.equal(runcList(root), []);
  }));

test("run -d, exec with its own exit code, stop -t 1 on a PID-1 sleep gives 137, inspect and history tell it", () =>
  withDaemon(async (root) => {
    const d = await berth(root, ["run", "-d", "--name", "w", "busybox", "sleep", "1000"]);
    assert.is(d.code, 0, d.stderr);
    assert.is(d.stdout.trim(), "w");

    const e = await berth(root, ["exec", "w", "sh", "-c", "echo from exec; exit 5"]);
    assert.is(e.code, 5, e.stderr);
    assert.is(e.stdout, "from exec\n");

    const stop = await berth(root, ["stop", "-t", "1", "w"]);
    assert.is(stop.code, 0, stop.stderr);

    const inspect = await berth(root, ["inspect", "w"]);
    assert.is(inspect.code, 0, inspect.stderr);
    const [w] = JSON.parse(inspect.stdout);
    assert.is(w.status, "stopped");
    assert.is(w.exitCode, 137);
    assert.ok(Date.parse(w.finishedAt) > Date.parse(w.startedAt), "finishedAt is a time after startedAt");
    const init = w.processes.find((p: { id: string }) => p.id === "w");
    assert.is(init.signal, "SIGKILL");

    const h = await berth(root, ["history", "w"]);
    assert.is(h.code, 0, h.stderr);
    const lines = h.stdout.trim().split("\n").slice(1);
    const expected = [
      /created from image busybox: sleep 1000/,
      /bootstrap requested/,
      /booted: conmon pid \d+ \(runc\)/,
      /start of init requested/,
      /init started/,
      /exec exec-\w+ registered: sh -c/,
      /start of exec exec-\w+ requested/,
      /exec exec-\w+ started/,
      /exec exec-\w+ exited with code 5/,
      /stop requested: SIGTERM, then SIGKILL after 1 s/,
      /signal SIGTERM sent to init/,
      /signal SIGKILL sent to init/,
      /init exited with code 137 \(killed by SIGKILL\)/,
      /stopped$/,
    ];
    assert.is(lines.length, expected.length, h.stdout);
    expected.forEach((re, i) => assert.match(lines[i]!, re));
    for (const line of lines) assert.match(line, /uid 0 pid \d+/, "every line names the actor");
    // The history is the journal's stream, in position order.
    const stream = (await journalEvents(root)).filter((ev) => ev.streamId === "container-w").map((ev) => `#${ev.position}`);
    assert.equal(lines.map((l) => /#\d+/.exec(l)![0]), stream);
  }));

test("run of a missing executable exits 127 and of a non-executable file 126: the error's reason, not its words", () =>
  withDaemon(async (root) => {
    const missing = await berth(root, ["run", "--rm", "busybox", "/nonexistent"]);
    assert.is(missing.code, 127, missing.stderr);
    const file = await berth(root, ["run", "--rm", "busybox", "/etc/passwd"]);
    assert.is(file.code, 126, file.stderr);
    // The reason is journaled with the failure, so it outlives the reply. runc checks the
    // executable at `runc create`, which conmon runs at the boot: the boot is what fails.
    const failed = (await journalEvents(root)).filter((ev) => ev.type === "BootstrapFailed").map((ev) => (ev.data as { error: { reason?: string } }).error.reason);
    assert.equal(failed, ["executableNotFound", "notExecutable"]);
    assert.equal(runcList(root), []);
  }));

test("exec of a missing command exits 127 and of a directory 126, as docker", () =>
  withDaemon(async (root) => {
    assert.is((await berth(root, ["run", "-d", "--name", "x", "busybox", "sleep", "1000"])).code, 0);
    const missing = await berth(root, ["exec", "x", "no-such-command"]);
    assert.is(missing.code, 127);
    assert.match(missing.stderr, /^berth: \w+: .*executable file not found/);
    const dir = await berth(root, ["exec", "x", "/etc"]);
    assert.is(dir.code, 126);
    const run = await berth(root, ["run", "--rm", "busybox", "no-such-command"]);
    assert.is(run.code, 127);
    assert.is((await berth(root, ["rm", "-f", "x"])).code, 0);
    assert.equal(runcList(root), []);
  }));

test("create, start -a, logs, wait, kill by number, ls and rm", () =>
  withDaemon(async (root) => {
    const c = await berth(root, ["create", "--name", "c", "-e", "WHO=berth", "busybox", "sh", "-c", 'echo "hi $WHO"; echo oops >&2; exit 4']);
    assert.is(c.stdout.trim(), "c", c.stderr);
    const a = await berth(root, ["start", "-a", "c"]);
    assert.is(a.code, 4, a.stderr);
    assert.is(a.stdout, "hi berth\n");
    assert.is(a.stderr, "oops\n");
    const w = await berth(root, ["wait", "c"]);
    assert.is(w.stdout, "4\n");
    const logs = await berth(root, ["logs", "--stderr", "c"]);
    assert.is(logs.stderr, "oops\n");
    assert.is(logs.stdout, "");
    const ts = await berth(root, ["logs", "-t", "--stdout", "c"]);
    assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z hi berth\n$/);

    assert.is((await berth(root, ["run", "-d", "--name", "k", "busybox", "sleep", "1000"])).code, 0);
    const ls = await berth(root, ["ls", "--format", "json"]);
    assert.equal(JSON.parse(ls.stdout).map((x: { id: string }) => x.id), ["k"]);
    assert.is((await berth(root, ["kill", "-s", "9", "k"])).code, 0);
    assert.is((await berth(root, ["wait", "k"])).stdout, "137\n");
    const all = await berth(root, ["ls", "-a", "--filter", "status=stopped", "-q"]);
    assert.equal(all.stdout.trim().split("\n").sort(), ["c", "k"]);
    assert.is((await berth(root, ["rm", "c", "k"])).code, 0);
    assert.is((await berth(root, ["ls", "-a", "-q"])).stdout, "");
    // history reads the journal, so a deleted container still has one.
    assert.match((await berth(root, ["history", "k"])).stdout, /deleted$/m);
    assert.equal(runcList(root), []);
    assert.ok((await journalHead(root)).position > 0);
  }));

test.run();
