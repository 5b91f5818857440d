// --log-opt max-size/max-file and --log-driver, end to end: the real CLI, a real daemon with the
// runc driver, conmon writing the logs and the daemon rotating them.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, berthLive, bin, ensureBuilt, tempRoot, withDaemon } from "./helpers/cli-env.js";
import { withDaemon as withDaemonFrame } from "./helpers/daemon.js";

// 3,000 numbered lines of ~10 bytes, written over about two seconds.
const WRITER = ["sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); usleep 500; done"];

/** The numbers of `line-N` lines, checked to be consecutive from the first. */
function consecutive(text: string): { first: number; last: number } {
  const numbers = text.trim().split("\n").map((l) => Number(/^line-(\d+)$/.exec(l)?.[1] ?? NaN));
  numbers.forEach((n, i) => assert.is(n, numbers[0]! + i, `line ${i} of the output`));
  return { first: numbers[0]!, last: numbers[numbers.length - 1]! };
}

const logFiles = (root: string, id: string) => fs.readdirSync(join(root, "containers", id, "logs")).sort();

test("max-size and max-file rotate the log: at most max-file files, logs reads across them in order, and logs -f sees every line once", () =>
  withDaemon(async (root) => {
    const run = await berth(root, ["run", "-d", "--name", "r", "--log-opt", "max-size=8k", "--log-opt", "max-file=3", "busybox", ...WRITER]);
    assert.is(run.code, 0, run.stderr);
    const follow = berthLive(root, ["logs", "-f", "r"]);
    assert.is((await berth(root, ["wait", "r"])).stdout.trim(), "0");
    assert.is(await follow.exited, 0, follow.stderr());
    assert.equal(consecutive(follow.stdout()), { first: 0, last: 2999 }, "the follower read the rotated files before they went");
    const files = logFiles(root, "r");
    assert.equal(files, ["r.log", "r.log.1", "r.log.2"]);
    const logs = await berth(root, ["logs", "r"]);
    assert.is(logs.code, 0, logs.stderr);
    const kept = consecutive(logs.stdout);
    assert.is(kept.last, 2999);
    assert.ok(kept.first > 0, "the oldest lines were rotated away");
    const tail = await berth(root, ["logs", "--tail", "5", "r"]);
    assert.equal(tail.stdout.trim().split("\n"), ["line-2995", "line-2996", "line-2997", "line-2998", "line-2999"]);
    assert.equal(JSON.parse((await berth(root, ["inspect", "r"])).stdout)[0].config.log, { driver: "k8s-file", maxSizeBytes: 8192, maxFiles: 3 });
  }));

test("the daemon's --log-opt is the default of containers that name no log options of their own", () => {
  ensureBuilt();
  return withDaemonFrame(tempRoot(), async ({ root }) => {
    assert.is((await berth(root, ["run", "--name", "d", "busybox", ...WRITER])).code, 0);
    assert.equal(logFiles(root, "d"), ["d.log", "d.log.1"]);
    assert.is((await berth(root, ["run", "--name", "own", "--log-opt", "max-size=1m", "busybox", "echo", "hi"])).code, 0);
    const configs = JSON.parse((await berth(root, ["inspect", "d", "own"])).stdout).map((c: { config: { log: unknown } }) => c.config.log);
    assert.equal(configs, [{ driver: "k8s-file", maxSizeBytes: 8192, maxFiles: 2 }, { driver: "k8s-file", maxSizeBytes: 1048576 }]);
  }, { command: [bin, "daemon", "--log-opt", "max-size=8k", "--log-opt", "max-file=2"] });
});

test("--log-driver none keeps no log: run and exec still show their output through conmon's socket, logs refuses as docker does", () =>
  withDaemon(async (root) => {
    const r = await berth(root, ["run", "--rm", "--log-driver", "none", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.is(r.code, 3, r.stderr);
    assert.is(r.stdout, "out\n");
    assert.is(r.stderr, "err\n");
    assert.is((await berth(root, ["run", "-d", "--name", "n", "--log-driver", "none", "busybox", "sleep", "1000"])).code, 0);
    const e = await berth(root, ["exec", "n", "sh", "-c", "echo from-exec; exit 4"]);
    assert.is(e.code, 4, e.stderr);
    assert.is(e.stdout, "from-exec\n");
    const logs = await berth(root, ["logs", "n"]);
    assert.is(logs.code, 125);
    assert.match(logs.stderr, /configured logging driver does not support reading/);
    assert.is(fs.readdirSync(join(root, "containers", "n", "logs")).length, 0, "no log file");
    const bad = await berth(root, ["run", "--log-driver", "none", "--log-opt", "max-size=1m", "busybox", "true"]);
    assert.is(bad.code, 125);
    assert.match(bad.stderr, /none log driver keeps no file/);
    assert.is((await berth(root, ["rm", "-f", "n"])).code, 0);
  }));

test.run();
