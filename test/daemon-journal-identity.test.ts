// Issue 11 point 4: the journal file deleted or replaced under a running daemon (runc driver,
// the real `berth` binary and daemon). The daemon notices, refuses commands with an error that
// says what happened, keeps answering reads from memory marked stale, and `journal verify` and
// `system info` tell the same story.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { BerthError } from "../src/model/errors.js";
import { berth, withDaemon } from "./helpers/cli-env.js";
import { Journal } from "../src/events/journal.js";
import { pidAlive, runcList } from "./helpers/daemon.js";

/** Every event of a journal file, read without its WAL (there must be none left to need). */
async function journalEvents(file: string) {
  const journal = await Journal.open(file, { readonly: true });
  try {
    return [...journal.readAll()];
  } finally {
    journal.close();
  }
}

type Damage = (journal: string) => void;

const renamedAndReplaced: Damage = (journal) => {
  fs.renameSync(journal, `${journal}.moved`);
  fs.writeFileSync(journal, ""); // a new, empty file in its place
};
const unlinked: Damage = (journal) => fs.unlinkSync(journal);

async function refusesAndTells(damage: Damage, what: RegExp, kind: "replaced" | "deleted"): Promise<void> {
  await withDaemon(async (root, daemon) => {
    const run = await berth(root, ["run", "-d", "--name", "keep", "busybox", "sleep", "1000"]);
    assert.is(run.code, 0, run.stderr);
    const journal = join(root, "journal.db");
    const sizeBefore = kind === "replaced" ? 0 : undefined;
    damage(journal);

    // Commands: refused with the fault, through the CLI and through the IPC client alike.
    const stop = await berth(root, ["stop", "-t", "1", "keep"]);
    assert.is(stop.code, 125);
    assert.match(stop.stderr, /berth: invalidState: journal .*journal\.db was/);
    assert.match(stop.stderr, what);
    assert.match(stop.stderr, /refuses commands/);
    const rc = await daemon.client("other");
    try {
      const err = (await rc.createContainer({ init: { args: ["true"] } }).then(() => undefined, (e: BerthError) => e))!;
      assert.ok(err, "create is refused");
      assert.is(err.code, "invalidState");
      assert.match(err.message, what);
    } finally {
      rc.close();
    }
    // Nothing was written beside the live container: no new journal at the path.
    if (sizeBefore !== undefined) assert.is(fs.statSync(journal).size, sizeBefore, "the file put in place stays untouched");
    else assert.not.ok(fs.existsSync(journal), "no new journal appeared at the path");

    // Reads answer from memory, marked stale.
    const ls = await berth(root, ["ls"]);
    assert.is(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /keep\s/);
    assert.match(ls.stderr, /warning: stale/);
    assert.match(ls.stderr, what);
    const inspect = await berth(root, ["inspect", "keep"]);
    assert.is(inspect.code, 0, inspect.stderr);
    assert.is(JSON.parse(inspect.stdout)[0].status, "running");
    assert.match(inspect.stderr, /warning: stale/);
    const ipc = await daemon.ipc();
    try {
      const state = await ipc.call<{ status: string; stale?: { kind: string } }>("state", { id: "keep" });
      assert.is(state.status, "running");
      assert.is(state.stale?.kind, kind);
    } finally {
      ipc.close();
    }

    // journal verify and the daemon's status say what happened.
    const verify = await berth(root, ["journal", "verify"]);
    assert.is(verify.code, 1, verify.stdout);
    assert.match(verify.stderr, /the daemon \(pid \d+\) refuses commands/);
    assert.match(verify.stderr, what);
    const info = await berth(root, ["system", "info"]);
    assert.is(info.code, 0, info.stderr);
    assert.match(info.stdout, / Status: REFUSING COMMANDS: journal .* was/);
    assert.match(info.stdout, what);
    assert.match(daemon.output(), what, "the daemon's log says it too");

    // The file the daemon opened is complete on its own: its WAL was checkpointed into it.
    const kept = kind === "replaced" ? `${journal}.moved` : join(root, "kept.db");
    if (kind === "deleted") {
      const fd = /copy (\/proc\/\d+\/fd\/\d+) to keep that file/.exec(daemon.output());
      assert.ok(fd, `the log names the daemon's descriptor of the deleted file: ${daemon.output()}`);
      fs.copyFileSync(fd![1]!, kept);
    }
    const events = await journalEvents(kept);
    assert.ok(events.some((e) => e.type === "ProcessStarted" && e.streamId === "container-keep"), "the kept file holds the container's history");

    // The container itself was never touched.
    assert.equal(runcList(root), ["keep"]);
    const pid = JSON.parse(inspect.stdout)[0].pid as number;
    assert.ok(pidAlive(pid), "the container's init still runs");
  });
}

test("the journal renamed and a new file put in its place: commands refused, reads stale, verify and info say so", () =>
  refusesAndTells(renamedAndReplaced, /replaced under the running daemon: it opened device \d+, inode \d+, the path now holds device \d+, inode \d+/, "replaced"));

test("the journal unlinked: commands refused, reads stale, verify and info say so", () =>
  refusesAndTells(unlinked, /deleted under the running daemon \(it opened device \d+, inode \d+\)/, "deleted"));

test.run();
