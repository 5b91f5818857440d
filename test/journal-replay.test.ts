// Acceptance 2.4 and 2.5: tamper detection, export/import, upcasting and replay determinism.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { exportJournal, importJournal } from "../src/events/archive.js";
import { containerStream, type ContainerEvent } from "../src/events/catalogue.js";
import { Journal } from "../src/events/journal.js";
import { fold, stateAt } from "../src/projections/index.js";
import { history, T0 } from "./helpers/model.js";
import { loadJournal } from "./helpers/replay.js";
import { CREATED_V1 } from "./fixtures/make-created-v1-journal.js";
import { onSqliteFile } from "./helpers/sqlite-file.js";
import { tempDir } from "./helpers/tmp.js";

const fixture = join(import.meta.dirname, "fixtures", "journal-v1.berth");
const createdV1 = join(import.meta.dirname, "fixtures", "journal-created-v1.berth");

/** A journal with three containers' lifecycles interleaved: 20+ events. */
async function sampleJournal(path: string): Promise<Journal> {
  const journal = await Journal.open(path);
  const streams: [string, ContainerEvent[]][] = [["a", history.stopped("a")], ["b", history.running("b")], ["c", history.deleted("c")]];
  let t = T0;
  for (let i = 0; i < 9; i++) {
    for (const [id, events] of streams) {
      const event = events[i];
      if (event) journal.append(containerStream(id), [event], i, { time: (t += 1000), actor: { uid: 0, gid: 0, pid: 10 + i }, commandId: `${id}-${i}` });
    }
  }
  return journal;
}

async function withSample(fn: (journal: Journal, dir: string) => Promise<void> | void) {
  const dir = tempDir();
  const journal = await sampleJournal(join(dir.path, "journal.db"));
  try {
    await fn(journal, dir.path);
  } finally {
    journal.close();
    dir.remove();
  }
}

test("verify passes on an untouched journal and reports the head", () =>
  withSample((j) => {
    const result = j.verify();
    assert.ok(result.ok);
    if (result.ok) assert.equal(result.head, j.head());
  }));

test("flipping one byte of a stored event names its position", () =>
  withSample((j) => {
    onSqliteFile(j.path, (db) => {
      const { body } = db.prepare("SELECT body FROM events WHERE position = 7").get() as { body: Buffer };
      body.writeUInt8(body.readUInt8(body.length - 2) ^ 0x01, body.length - 2);
      db.prepare("UPDATE events SET body = ? WHERE position = 7").run(body);
    });
    const result = j.verify();
    assert.equal(result.ok ? 0 : result.position, 7);
  }));

test("editing an indexed column (the actor) without touching the body is caught", () =>
  withSample((j) => {
    onSqliteFile(j.path, (db) => db.prepare("UPDATE events SET actor_uid = 1000 WHERE position = 4").run());
    const result = j.verify();
    assert.equal(result.ok ? 0 : result.position, 4);
    assert.match(result.ok ? "" : result.reason, /actor_uid/);
  }));

test("changing a row's schema version (to read it through the wrong upcaster) is caught", () =>
  withSample((j) => {
    onSqliteFile(j.path, (db) => db.prepare("UPDATE events SET schema_version = 2 WHERE position = 6").run());
    const result = j.verify();
    assert.equal(result.ok ? 0 : result.position, 6);
  }));

test("deleting a row names the missing position", () =>
  withSample((j) => {
    onSqliteFile(j.path, (db) => db.prepare("DELETE FROM events WHERE position = 5").run());
    const result = j.verify();
    assert.equal(result.ok ? 0 : result.position, 5);
  }));

test("deleting the last rows is caught through the recorded head", () =>
  withSample((j) => {
    const head = j.head().position;
    onSqliteFile(j.path, (db) => db.prepare("DELETE FROM events WHERE position >= ?").run(head - 1));
    const result = j.verify();
    assert.equal(result.ok ? 0 : result.position, head - 1);
  }));

test("swapping two rows names the first of them", () =>
  withSample((j) => {
    onSqliteFile(j.path, (db) => {
      const row = (p: number) => db.prepare("SELECT * FROM events WHERE position = ?").get(p) as Record<string, unknown>;
      const [r3, r8] = [row(3), row(8)];
      const put = db.prepare("UPDATE events SET event_id = ?, stream_id = ?, version = ?, type = ?, schema_version = ?, time = ?, command_id = ?, actor_uid = ?, body = ?, hash = ? WHERE position = ?");
      const values = (r: Record<string, unknown>) => [r.event_id, r.stream_id, r.version, r.type, r.schema_version, r.time, r.command_id, r.actor_uid, r.body, r.hash];
      db.transaction(() => {
        put.run(`tmp-${r3.event_id}`, "tmp", -1, "x", 1, 0, null, null, Buffer.alloc(1), Buffer.alloc(1), 3);
        put.run(...values(r3), 8);
        put.run(...values(r8), 3);
      })();
    });
    const result = j.verify();
    assert.equal(result.ok ? 0 : result.position, 3);
  }));

test("export then import into a fresh file: identical projections and verify head", () =>
  withSample(async (j, dir) => {
    const file = join(dir, "export.berth");
    exportJournal(j, file);
    const replay = await loadJournal(file);
    try {
      const original = j.verify();
      const imported = replay.journal.verify();
      assert.ok(original.ok && imported.ok);
      if (original.ok && imported.ok) assert.equal(imported.head, original.head);
      for (let p = 0; p <= replay.head; p++) assert.equal(replay.at(p), stateAt(j, p), `position ${p}`);
      assert.equal(await replay.journal.query({}), await j.query({}));
    } finally {
      replay.close();
    }
  }));

test("import rejects a file whose chain is broken and leaves the target empty", () =>
  withSample(async (j, dir) => {
    const file = join(dir, "export.berth");
    exportJournal(j, file);
    const bytes = readFileSync(file);
    const target = await Journal.open(join(dir, "target.db"));
    try {
      // Every byte of the file matters: flip a sample of them, one at a time.
      for (let at = 20; at < bytes.length; at += Math.ceil(bytes.length / 40)) {
        const damaged = Buffer.from(bytes);
        damaged.writeUInt8(damaged.readUInt8(at) ^ 0x20, at);
        writeFileSync(file, damaged);
        assert.throws(() => importJournal(target, file), (e: { code?: string }) => e.code === "invalidArgument", `a flip at byte ${at}`);
        assert.is(target.head().position, 0);
      }
    } finally {
      target.close();
    }
  }));

test("a journal written with ProcessExited schema v1 loads through its upcaster", async () => {
  const replay = await loadJournal(fixture);
  try {
    assert.ok(replay.journal.verify().ok, "the fixture's chain verifies");
    const exit = replay.journal.readStream("container-old").find((e) => e.type === "ProcessExited")!;
    assert.is(exit.schemaVersion, 2);
    assert.equal(exit.data, { processId: "old", pid: 200, exitCode: 7, exitedAt: Date.parse("2026-01-01T00:00:09.500Z"), oomKilled: false });
    const state = replay.at(replay.head).containers.old!;
    assert.is(state.status, "stopped");
    assert.is(state.exitCode, 7);
    assert.is(state.finishedAt, Date.parse("2026-01-01T00:00:09.500Z"));
    assert.is(replay.at(5).containers.old?.status, "running");
  } finally {
    replay.close();
  }
});

test("a ContainerCreated of schema v1, as main wrote it for a pulled image, replays unchanged and verifies", async () => {
  const replay = await loadJournal(createdV1);
  try {
    assert.ok(replay.journal.verify().ok, "the fixture's chain verifies");
    const created = replay.journal.readStream("container-web").find((e) => e.type === "ContainerCreated")!;
    assert.is(created.schemaVersion, 2, "read as the current version");
    assert.equal(created.data, CREATED_V1, "through the v1 → v2 upcaster unchanged: a v1 config has no volumes or healthcheck");
    const web = replay.at(replay.head).containers.web!;
    assert.is(web.status, "created");
    assert.equal(web.config.rootfs, CREATED_V1.config.rootfs, "which exact image it ran survives");
    assert.is(web.config.volumes, undefined);
  } finally {
    replay.close();
  }
});

test("folding the same events twice gives the same state, at every position", () =>
  withSample((j) => {
    const events = [...j.readAll()];
    for (let p = 0; p <= events.length; p++) {
      assert.equal(fold(events.slice(0, p)), fold(events.slice(0, p)));
      assert.equal(stateAt(j, p), fold(events.slice(0, p)));
    }
  }));

test.run();
