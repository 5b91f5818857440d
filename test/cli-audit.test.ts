// Acceptance 3 and 4: `berth events` (follow, bounds, filters) checked against the journal, and
// `berth journal verify` before and after one byte of one stored event is flipped.
import Database from "better-sqlite3";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { StoredEvent } from "../src/events/catalogue.js";
import { berth, berthLive, waitFor, withDaemon } from "./helpers/cli-env.js";
import { journalEvents } from "./helpers/daemon.js";

const parse = (stdout: string): StoredEvent[] => stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const positions = (events: StoredEvent[]) => events.map((e) => e.position);

/** Runs `n` short lifecycles through the CLI, `width` at a time. */
async function burst(root: string, n: number, width = 5): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const r = await berth(root, ["run", "--rm", "--name", `b${i}`, "busybox", "/bin/true"]);
      assert.is(r.code, 0, r.stderr);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

test("events -f started before a burst of 100 lifecycles prints every event exactly once, in position order", () =>
  withDaemon(async (root) => {
    const live = berthLive(root, ["events", "-f", "--format", "json"]);
    try {
      assert.is((await berth(root, ["run", "--rm", "--name", "first", "busybox", "/bin/true"])).code, 0);
      await waitFor("the follower to print the first lifecycle", () => live.stdout().includes('"ContainerDeleted"'), 60_000);
      await burst(root, 100);
      const journal = await journalEvents(root);
      await waitFor("the follower to catch up", () => parse(live.stdout()).length >= journal.length, 60_000);
      live.child.kill("SIGINT");
      assert.is(await live.exited, 0, live.stderr());
      const seen = parse(live.stdout());
      assert.equal(positions(seen), positions(journal), "each event once, in order");
      assert.equal(seen.map((e) => e.eventId), journal.map((e) => e.eventId));
      assert.is(seen.filter((e) => e.type === "ContainerDeleted").length, 101);
    } finally {
      live.child.kill("SIGKILL");
    }
  }));

test("--since, --until and each --filter select exactly the journal's matching rows", () =>
  withDaemon(async (root) => {
    for (const [name, code] of [["a", "0"], ["b", "3"], ["c", "0"]] as const) {
      assert.is((await berth(root, ["run", "--rm", "--name", name, "busybox", "sh", "-c", `exit ${code}`])).code, Number(code));
    }
    const journal = await journalEvents(root);
    const events = async (...args: string[]) => {
      const r = await berth(root, ["events", "--format", "json", ...args]);
      assert.is(r.code, 0, r.stderr);
      return positions(parse(r.stdout));
    };
    const where = (f: (e: StoredEvent) => boolean) => positions(journal.filter(f));
    const mid = journal[Math.floor(journal.length / 3)]!;
    const late = journal[Math.floor((2 * journal.length) / 3)]!;

    assert.equal(await events(), positions(journal));
    assert.equal(await events("--since", `@${mid.position}`), where((e) => e.position >= mid.position));
    assert.equal(await events("--until", `@${mid.position}`), where((e) => e.position <= mid.position));
    assert.equal(await events("--since", `@${mid.position}`, "--until", `@${late.position}`), where((e) => e.position >= mid.position && e.position <= late.position));
    const t0 = new Date(mid.time).toISOString();
    const t1 = new Date(late.time).toISOString();
    assert.equal(await events("--since", t0, "--until", t1), where((e) => e.time >= mid.time && e.time <= late.time));
    assert.equal(await events("--since", String(Math.floor(mid.time / 1000))), where((e) => e.time >= Math.floor(mid.time / 1000) * 1000));
    assert.equal(await events("--since", "1h"), positions(journal));
    assert.equal(await events("--filter", "container=b"), where((e) => e.streamId === "container-b"));
    assert.equal(await events("--filter", "type=ProcessExited", "--filter", "type=ContainerCreated"), where((e) => e.type === "ProcessExited" || e.type === "ContainerCreated"));
    assert.equal(await events("--filter", "container=b", "--filter", "type=ProcessExited"), where((e) => e.streamId === "container-b" && e.type === "ProcessExited"));
    assert.equal(await events("--filter", "actor=0"), where((e) => e.actor?.uid === 0));
    assert.equal(await events("--filter", "actor=4242"), []);

    // The table form: one line per event with position, time, container, type, actor and key data.
    const table = await berth(root, ["events", "--filter", "container=b", "--filter", "type=ProcessExited"]);
    assert.match(table.stdout, /^\s+\d+  \d{4}-\d\d-\d\dT[\d:.]+Z  b\s+ProcessExited\s+uid 0 pid \d+\s+process=b pid=\d+ exitCode=3\n$/);
  }));

test("journal verify passes, then fails with exit 1 naming the position whose stored bytes were flipped", () =>
  withDaemon(async (root, daemon) => {
    assert.is((await berth(root, ["run", "--rm", "busybox", "/bin/true"])).code, 0);
    const ok = await berth(root, ["journal", "verify"]);
    assert.is(ok.code, 0, ok.stderr);
    const journal = await journalEvents(root);
    const head = journal[journal.length - 1]!.position;
    assert.match(ok.stdout, new RegExp(`^journal ok: ${journal.length} events, head position ${head}, hash [0-9a-f]{64}\\n$`));

    const stats = await berth(root, ["journal", "stats", "--format", "json"]);
    const s = JSON.parse(stats.stdout);
    assert.is(s.events, journal.length);
    assert.is(s.head.position, head);
    assert.is(s.byType.ContainerCreated, 1);

    await daemon.stop();
    const victim = Math.ceil(head / 2);
    const db = new Database(join(root, "journal.db"));
    try {
      const { body } = db.prepare("SELECT body FROM events WHERE position = ?").get(victim) as { body: Buffer };
      body.writeUInt8(body.readUInt8(body.length - 1) ^ 0x01, body.length - 1);
      db.prepare("UPDATE events SET body = ? WHERE position = ?").run(body, victim);
    } finally {
      db.close();
    }
    const bad = await berth(root, ["journal", "verify"]);
    assert.is(bad.code, 1);
    assert.match(bad.stderr, new RegExp(`failed at position ${victim}:`));
  }));

test.run();
