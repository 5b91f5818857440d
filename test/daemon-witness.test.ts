// Issue 11, points 3 and 5, against the real daemon and runc: snapshots that are garbage or
// forged are discarded (and named by verify), and an exit ack outside the journal proves a
// tail that went backwards.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decode, encode } from "../src/events/codec.js";
import { snapshotDigest } from "../src/events/snapshot.js";
import type { Projection } from "../src/projections/index.js";
import { berth, bin, ensureBuilt, tempRoot, type Result } from "./helpers/cli-env.js";
import { journalEvents, withDaemon, type DaemonFrame } from "./helpers/daemon.js";

const ok = (r: Result, what: string) => assert.is(r.code, 0, `${what}: ${r.stderr}`);

/** A daemon start that is expected to fail: its exit code and output. */
function failedStart(root: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, "daemon", "--root", root], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    // A daemon that starts after all would serve forever: end it, and let the assertion fail.
    const timer = setTimeout(() => child.kill("SIGTERM"), 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

/** A root whose daemons (`berth daemon`) the test starts itself, with daemon.restart(). */
function withRoot(fn: (root: string, daemon: DaemonFrame) => Promise<void>): Promise<void> {
  ensureBuilt();
  return withDaemon(tempRoot(), (d) => fn(d.root, d), { command: [bin, "daemon"], start: false });
}

function withDb<T>(root: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(root, "journal.db"));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** What a forger with write access to the file does: edit the body, recompute the digest. */
function forgeSnapshot(root: string, edit: (p: Projection) => void): void {
  withDb(root, (db) => {
    const row = db.prepare("SELECT name, position, body, hash FROM snapshots").get() as { name: string; position: number; body: Buffer; hash: Buffer } | undefined;
    assert.ok(row, "the clean stop saved a snapshot");
    const state = decode<Projection>(row!.body);
    edit(state);
    const body = encode(state);
    const digest = row!.hash ? snapshotDigest(row!.name, row!.position, row!.hash, body) : null;
    db.prepare("UPDATE snapshots SET body = ?, digest = ? WHERE name = ?").run(body, digest, row!.name);
  });
}

test("a snapshot replaced by garbage: the daemon says why, replays the journal in full and starts", () =>
  withRoot(async (root, daemon) => {
    await daemon.restart();
    assert.is((await berth(root, ["run", "--name", "gone", "busybox", "sh", "-c", "exit 4"])).code, 4);
    ok(await berth(root, ["run", "-d", "--name", "live", "busybox", "sleep", "1000"]), "run -d");
    assert.is((await berth(root, ["exec", "live", "sh", "-c", "exit 2"])).code, 2);
    await daemon.stop();
    // An honest snapshot (a running container, an exec'd process, a stopped one) is used as it is.
    ok(await berth(root, ["journal", "verify"]), "verify of the clean stop's snapshot");
    await daemon.restart();
    assert.not.match(daemon.daemon.output(), /warning/);
    await daemon.stop();
    // 0xc1 is the one byte msgpack never uses: this body cannot decode.
    withDb(root, (db) => db.prepare("UPDATE snapshots SET body = ?").run(Buffer.concat([Buffer.from([0xc1]), randomBytes(200)])));

    await daemon.restart();
    assert.match(daemon.daemon.output(), /warning: snapshot "projection" \(position \d+\).*; discarded, the journal was replayed in full/);
    const inspect = await berth(root, ["inspect", "gone"]);
    ok(inspect, "inspect");
    const [state] = JSON.parse(inspect.stdout);
    assert.is(state.status, "stopped");
    assert.is(state.exitCode, 4);
    ok(await berth(root, ["journal", "verify"]), "verify after the daemon replaced the snapshot");
  }));

test("a forged, well-formed snapshot (a host / bind mount and a new command) is discarded, and verify names it", () =>
  withRoot(async (root, daemon) => {
    await daemon.restart();
    const first = await berth(root, ["run", "--name", "victim", "busybox", "echo", "original"]);
    ok(first, "run");
    assert.is(first.stdout, "original\n");
    await daemon.stop();
    forgeSnapshot(root, (p) => {
      const victim = p.containers.victim!;
      victim.config.mounts = [{ source: "/", destination: "/host", readOnly: false }];
      victim.config.init = { ...victim.config.init, args: ["cat", "/host/etc/hostname"] };
    });

    const verify = await berth(root, ["journal", "verify"]);
    assert.is(verify.code, 1, verify.stdout);
    assert.match(verify.stderr, /snapshot "projection" \(position \d+\) differs from the journal's fold at containers\.victim\.config/);

    await daemon.restart();
    assert.match(daemon.daemon.output(), /warning: snapshot "projection" .*container victim differs from the journal's fold of its stream at containers\.victim\.config.*replayed in full/);
    const again = await berth(root, ["start", "-a", "victim"]);
    ok(again, "start -a");
    assert.is(again.stdout, "original\n", "the journaled command ran, not the forged one");
    const [state] = JSON.parse((await berth(root, ["inspect", "victim"])).stdout);
    assert.not.match(JSON.stringify(state), /"\/host"/, "no forged mount");
  }));

test("a journal restored to an older copy: refused naming the positions, accepted with --accept-journal-loss", () =>
  withRoot(async (root, daemon) => {
    await daemon.restart();
    ok(await berth(root, ["create", "--name", "early", "busybox", "true"]), "create");
    await daemon.stop();
    const file = join(root, "journal.db");
    fs.copyFileSync(file, join(root, "older.db"));
    const oldHead = (await journalEvents(root)).at(-1)!.position;

    await daemon.restart();
    assert.is((await berth(root, ["run", "--name", "short", "busybox", "sh", "-c", "exit 3"])).code, 3);
    await daemon.stop();
    const exits = join(root, "containers", "short", "exits");
    const acks = fs.readdirSync(exits).filter((n) => n.endsWith(".ack"));
    assert.is(acks.length, 1, "one ack beside the exit record of init");
    const ack = JSON.parse(fs.readFileSync(join(exits, acks[0]!), "utf8")) as { position: number; hash: string };
    const exited = (await journalEvents(root)).find((e) => e.position === ack.position);
    assert.is(exited?.type, "ProcessExited", "the ack names the position of the exit's event");

    // The tail goes backwards: the older copy comes back (as after a WAL cut or a restore).
    for (const suffix of ["-wal", "-shm"]) fs.rmSync(`${file}${suffix}`, { force: true });
    fs.copyFileSync(join(root, "older.db"), file);
    const lost = `positions ${oldHead + 1}..${ack.position}`;

    const refused = await failedStart(root);
    assert.is(refused.code, 125, refused.output);
    assert.match(refused.output, new RegExp(`invalidState: the journal lost acknowledged events: ${lost} \\(the journal ends at ${oldHead}\\)`));
    assert.match(refused.output, /--accept-journal-loss/);
    assert.is((await journalEvents(root)).at(-1)!.position, oldHead, "the refused start appended nothing");

    const verify = await berth(root, ["journal", "verify"]);
    assert.is(verify.code, 1);
    assert.match(verify.stderr, new RegExp(`failed at position ${oldHead + 1}: the journal lost acknowledged events: ${lost}`));

    await daemon.restart({ command: [bin, "daemon", "--accept-journal-loss"] });
    assert.match(daemon.daemon.output(), new RegExp(`warning: accepted a journal loss: .*${lost}`));
    ok(await berth(root, ["create", "--name", "after", "busybox", "true"]), "create after the loss");
    const events = await journalEvents(root);
    const loss = events.find((e) => e.type === "JournalLossAccepted");
    assert.ok(loss, "the loss is journaled");
    assert.equal({ from: (loss!.data as { from: number }).from, to: (loss!.data as { to: number }).to }, { from: oldHead + 1, to: ack.position });
    assert.ok(loss!.position > ack.position, `the loss event (${loss!.position}) sits above the witnessed position ${ack.position}`);
    const after = events.filter((e) => e.streamId === "container-after");
    assert.ok(after.length > 0 && after.every((e) => e.position > ack.position), "no witnessed position is handed out again");

    const accepted = await berth(root, ["journal", "verify"]);
    ok(accepted, "verify after the accepted loss");
    assert.match(accepted.stdout, new RegExp(`accepted loss at position ${loss!.position}: acknowledged ${lost} are gone`));
  }));

test("a WAL cut after kill -9 drops an acknowledged exit: the next start is refused, naming the positions", () =>
  withRoot(async (root, daemon) => {
    await daemon.restart();
    ok(await berth(root, ["create", "--name", "early", "busybox", "true"]), "create");
    await daemon.stop(); // a clean stop checkpoints the WAL into the file
    const oldHead = (await journalEvents(root)).at(-1)!.position;
    await daemon.restart();
    assert.is((await berth(root, ["run", "--name", "short", "busybox", "sh", "-c", "exit 3"])).code, 3);
    await daemon.kill9();
    const exits = join(root, "containers", "short", "exits");
    const [ackFile] = fs.readdirSync(exits).filter((n) => n.endsWith(".ack"));
    const ack = JSON.parse(fs.readFileSync(join(exits, ackFile!), "utf8")) as { position: number };
    // Everything since the clean stop is in the WAL; cut it back to its header.
    fs.truncateSync(join(root, "journal.db-wal"), 32);
    const refused = await failedStart(root);
    assert.is(refused.code, 125, refused.output);
    assert.match(refused.output, new RegExp(`the journal lost acknowledged events: positions ${oldHead + 1}..${ack.position} \\(the journal ends at ${oldHead}\\)`));
    const verify = await berth(root, ["journal", "verify"]);
    assert.is(verify.code, 1);
    assert.match(verify.stderr, new RegExp(`positions ${oldHead + 1}..${ack.position}`));
  }));

test.run();
