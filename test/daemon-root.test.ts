// Issue #11 point 11: the daemon's first start on a root it did not make. It creates a missing
// root 0700, accepts a 0755 one (mkdir -p) with the socket in a 0700 directory of its own,
// refuses a root others can write with the command that fixes it, and a refused start appends
// nothing to the journal.
import fs from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { socketDir, socketPath } from "../src/host/root-layout.js";
import { berth, bin, ensureBuilt, startCliDaemon, tempRoot } from "./helpers/cli-env.js";
import { cleanupDaemon, journalEvents, startDaemon, type DaemonProcess } from "./helpers/daemon.js";

const mode = (path: string) => fs.statSync(path).mode & 0o7777;

ensureBuilt(); // the daemons run the built CLI (`berth daemon`): they start faster than from source

/** A scratch directory holding the root under test, removed with whatever the daemon left. */
async function inScratch(fn: (scratch: string, started: (d: DaemonProcess, root: string) => void) => Promise<void>): Promise<void> {
  const scratch = tempRoot();
  const daemons: [DaemonProcess, string][] = [];
  try {
    await fn(scratch, (d, root) => daemons.push([d, root]));
  } finally {
    for (const [d, root] of daemons) await cleanupDaemon(d, root);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Starts a daemon that is expected to refuse, and returns what it printed. */
async function refusedStart(root: string): Promise<string> {
  const started = await startDaemon(root, "runc", [bin, "daemon"]).then(
    async (d) => {
      await d.stop();
      return undefined;
    },
    (err: Error) => err.message,
  );
  if (started === undefined) throw new Error(`the daemon started on ${root}, expected a refusal`);
  return started;
}

test("a missing root is created 0700; one made with mkdir -p (0755) is accepted, with the socket in a 0700 directory the daemon owns, which the CLI finds", () =>
  inScratch(async (scratch, started) => {
    const fresh = join(scratch, "not", "there");
    const first = await startCliDaemon(fresh);
    started(first, fresh);
    assert.is(mode(fresh), 0o700);
    assert.is(mode(socketDir(fresh)), 0o700);

    const root = join(scratch, "state", "berth");
    fs.mkdirSync(root, { recursive: true, mode: 0o755 });
    fs.chmodSync(root, 0o755);
    const daemon = await startCliDaemon(root);
    started(daemon, root);
    assert.is(mode(root), 0o755, "an existing root is not chmod-ed");
    assert.is(mode(socketDir(root)), 0o700);
    assert.is(fs.statSync(socketDir(root)).uid, process.getuid!());
    assert.ok(fs.statSync(socketPath(root)).isSocket());
    for (const file of ["journal.db", "journal.db-wal", "journal.db-shm"]) assert.is(mode(join(root, file)), 0o600, `${file} is private in a 0755 root`);
    const r = await berth(root, ["run", "--rm", "busybox", "echo", "hello"]);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, "hello\n");
  }));

test("a root writable by its group or by others is refused with the chmod that fixes it, and no journal is written", () =>
  inScratch(async (scratch) => {
    for (const [name, bits] of [["group", 0o775], ["others", 0o757], ["sticky", 0o1777]] as const) {
      const root = join(scratch, name);
      fs.mkdirSync(root);
      fs.chmodSync(root, bits);
      const output = await refusedStart(root);
      assert.match(output, /invalidArgument/, output);
      assert.ok(output.includes(`chmod go-w ${root}`), output);
      assert.not.ok(fs.existsSync(join(root, "journal.db")), `a refused start on a ${name}-writable root wrote a journal`);
      assert.not.ok(fs.existsSync(socketDir(root)), "nor a socket directory");
    }
  }));

test("a start refused after the journal exists appends nothing: a socket directory others can read, a server already on the socket", () =>
  inScratch(async (scratch, started) => {
    const root = join(scratch, "root");
    const first = await startCliDaemon(root);
    await first.stop();
    const before = await journalEvents(root);
    assert.ok(before.some((e) => e.type === "DaemonRecovered"), "the first start journaled its recovery");

    fs.chmodSync(socketDir(root), 0o755);
    let output = await refusedStart(root);
    assert.match(output, /socket directory .* has mode 0755, expected at most 0700/, output);
    assert.equal((await journalEvents(root)).length, before.length, "nothing appended by the refused start");
    fs.chmodSync(socketDir(root), 0o700);

    // Another server (not a berth daemon: it holds no journal lock) already answers on the socket.
    const squatter: Server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => squatter.listen(socketPath(root), resolve));
    try {
      output = await refusedStart(root);
      assert.match(output, /already listening/, output);
      assert.equal((await journalEvents(root)).length, before.length, "nothing appended by the refused start");
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }

    const again = await startCliDaemon(root);
    started(again, root);
    const after = await journalEvents(root);
    assert.is(after.filter((e) => e.type === "DaemonRecovered").length, 2, "one recovery per successful start");
  }));

test.run();
