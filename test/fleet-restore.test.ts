// Issue #17, disaster recovery and the outside witness, through the real `berth` binary: a
// node's journal rebuilt from the fleet stream verifies to the same head and replays to the same
// state; and two tampers that plain `journal verify` cannot see are named by `verify --witness`.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { packBody, unpackBody } from "../src/events/codec.js";
import { chainHash, GENESIS_HASH } from "../src/events/hash.js";
import { journalPath } from "../src/host/root-layout.js";
import { berth, ensureBuilt } from "./helpers/cli-env.js";
import { tempRoot, withDaemon } from "./helpers/daemon.js";
import { lifecycle, shippingDaemon, waitShipped } from "./helpers/fleet.js";
import { startNats, type NatsServer } from "./helpers/nats.js";
import { onSqliteFile } from "./helpers/sqlite-file.js";
import { tempDir } from "./helpers/tmp.js";

const NODE = "node-w";
let nats: NatsServer;
const work = tempDir("berth-fleet-restore-");
const original = join(work.path, "original");

test.before(async () => {
  ensureBuilt();
  nats = await startNats();
  fs.mkdirSync(original, { mode: 0o700 });
  await withDaemon(tempRoot(), async (frame) => {
    for (let i = 0; i < 10; i++) await lifecycle(frame, `w${i}`);
    await waitShipped(nats.url, NODE, frame.root);
    await frame.stop();
    // The stopped daemon's journal, kept: withDaemon removes its root.
    fs.copyFileSync(journalPath(frame.root), journalPath(original));
  }, { driver: "fake", command: shippingDaemon(nats.url, NODE) });
});

test.after(async () => {
  await nats?.stop();
  work.remove();
});

/** A copy of the original root, to tamper with. */
function copyRoot(name: string): string {
  const root = join(work.path, name);
  fs.mkdirSync(root, { mode: 0o700 });
  fs.copyFileSync(journalPath(original), journalPath(root));
  return root;
}

const verify = (root: string, ...extra: string[]) => berth(root, ["journal", "verify", ...extra]);

test("journal restore rebuilds the node's journal: the same verify head and the same replay", async () => {
  const restored = join(work.path, "restored");
  const r = await berth(restored, ["journal", "restore", "--from", nats.url, "--node", NODE, "--root", restored]);
  assert.is(r.code, 0, r.stderr);
  const [a, b] = [await verify(original), await verify(restored)];
  assert.is(a.code, 0, a.stderr);
  assert.is(b.stdout, a.stdout, "the same head position and hash");
  const replays: string[] = [];
  for (const root of [original, restored]) {
    const file = join(work.path, `${replays.length}.berth`);
    assert.is((await berth(root, ["journal", "export", file])).code, 0);
    const replay = await berth(root, ["journal", "replay", file, "--format", "json", "-a"]);
    assert.is(replay.code, 0, replay.stderr);
    replays.push(replay.stdout);
  }
  assert.is(replays[1], replays[0], "the same state");
  const w = await verify(restored, "--witness", nats.url, "--node", NODE);
  assert.is(w.code, 0, w.stderr);
  assert.match(w.stdout, "witness ok");
});

test("restore refuses a root whose journal is not empty, and leaves it untouched", async () => {
  const root = copyRoot("busy");
  const before = fs.readFileSync(journalPath(root));
  const r = await berth(root, ["journal", "restore", "--from", nats.url, "--node", NODE, "--root", root]);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, "not empty");
  assert.ok(fs.readFileSync(journalPath(root)).equals(before));
});

test("a cut tail (the last 5 rows deleted, sqlite_sequence reset) passes plain verify; verify --witness names its first position", async () => {
  const root = copyRoot("cut");
  const head = onSqliteFile(journalPath(root), (db) => {
    const { p } = db.prepare("SELECT max(position) AS p FROM events").get() as { p: number };
    db.prepare("DELETE FROM events WHERE position > ?").run(p - 5);
    db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'").run(p - 5);
    db.prepare("DELETE FROM snapshots").run();
    return p;
  });
  const plain = await verify(root);
  assert.is(plain.code, 0, `plain verify cannot see it: ${plain.stderr}`);
  const w = await verify(root, "--witness", nats.url, "--node", NODE);
  assert.is(w.code, 1);
  assert.match(w.stderr, `failed at position ${head - 4}:`);
  assert.match(w.stderr, "does not have it");
});

test("one event rewritten and every hash after it re-chained passes plain verify; verify --witness names it", async () => {
  const root = copyRoot("rewritten");
  const target = 7;
  onSqliteFile(journalPath(root), (db) => {
    type Row = { position: number; stream_id: string; version: number; type: string; body: Buffer; hash: Buffer };
    const rows = db.prepare("SELECT position, stream_id, version, type, body, hash FROM events ORDER BY position").all() as Row[];
    let prev: Uint8Array = GENESIS_HASH;
    const update = db.prepare("UPDATE events SET body = ?, hash = ? WHERE position = ?");
    for (const row of rows) {
      let body = row.body;
      if (row.position === target) {
        const fields = unpackBody(body);
        body = packBody({ ...fields, data: { ...(fields.data as object), forged: true } });
      }
      const hash = chainHash(prev, { position: row.position, streamId: row.stream_id, version: row.version, type: row.type, body });
      if (row.position >= target) update.run(body, hash, row.position);
      prev = hash;
    }
    db.prepare("DELETE FROM snapshots").run();
  });
  const plain = await verify(root);
  assert.is(plain.code, 0, `plain verify cannot see it: ${plain.stderr}`);
  const w = await verify(root, "--witness", nats.url, "--node", NODE);
  assert.is(w.code, 1);
  assert.match(w.stderr, `failed at position ${target}:`);
  assert.match(w.stderr, "rewritten");
});

test.run();
