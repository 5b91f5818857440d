// The journal's API: expected versions, idempotency, reads and filters, notification,
// checkpoints, snapshots, exclusive ownership and typed errors.
import { spawnSync } from "node:child_process";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BerthError } from "../src/model/errors.js";
import type { ContainerEvent } from "../src/events/catalogue.js";
import { Journal, WrongExpectedVersion } from "../src/events/journal.js";
import { fold, stateAt } from "../src/projections/index.js";
import { history, T0 } from "./helpers/model.js";
import { tempDir } from "./helpers/tmp.js";

async function withJournal(fn: (journal: Journal, dir: string) => Promise<void> | void) {
  const dir = tempDir();
  const journal = await Journal.open(join(dir.path, "journal.db"));
  try {
    await fn(journal, dir.path);
  } finally {
    journal.close();
    dir.remove();
  }
}

const sig = (processId: string): ContainerEvent => ({ type: "SignalSent", data: { processId, signal: "SIGTERM" } });

test("expected version modes: any, noStream, exists and exact", () =>
  withJournal((j) => {
    assert.throws(() => j.append("container-a", [sig("p")], "exists"), (e: unknown) => e instanceof WrongExpectedVersion && e.code === "invalidState");
    j.append("container-a", [sig("p")], "noStream");
    assert.throws(() => j.append("container-a", [sig("p")], "noStream"), /expected no stream but the stream is at version 1/);
    j.append("container-a", [sig("p")], "exists");
    j.append("container-a", [sig("p")], 2);
    assert.throws(() => j.append("container-a", [sig("p")], 2), /expected version 2 but the stream is at version 3/);
    j.append("container-a", [sig("p")], "any");
    assert.is(j.streamVersion("container-a"), 4);
    assert.is(j.head().position, 4);
  }));

test("a retried command id appends nothing and returns the original events", () =>
  withJournal((j) => {
    const first = j.append("container-a", [sig("p"), sig("q")], "any", { commandId: "c-1" });
    const again = j.append("container-a", [sig("p"), sig("q")], "any", { commandId: "c-1" });
    assert.is(again.duplicate, true);
    assert.equal(again.events, first.events);
    assert.is(j.head().position, 2);
  }));

test("a retry is found whether the command's event ids were derived or supplied (as before migration 002)", () =>
  withJournal((j) => {
    const derived = j.append("container-a", [sig("p"), sig("q")], "any", { commandId: "c-derived" });
    assert.equal(derived.events.map((e) => e.eventId), [":0:c-derived", ":1:c-derived"]);
    const supplied = j.append("container-a", [sig("p")], "any", { commandId: "c-supplied", eventIds: ["random-id-1"] });
    assert.equal(j.append("container-a", [sig("p"), sig("q")], "any", { commandId: "c-derived" }).events, derived.events);
    assert.equal(j.append("container-a", [sig("p")], "any", { commandId: "c-supplied" }).events, supplied.events);
    assert.equal(j.eventsForCommand("c-derived"), derived.events);
    assert.equal(j.eventsForCommand("c-supplied"), supplied.events);
    assert.equal(j.eventsForCommand("c-unknown"), []);
    assert.is(j.head().position, 3);
  }));

test("the envelope round-trips: ids, time, command, correlation, causation and actor", () =>
  withJournal((j) => {
    const meta = { commandId: "cmd", correlationId: "corr", causationId: "cause", actor: { uid: 0, gid: 0, pid: 77 }, time: T0, eventIds: ["ev-1"] };
    j.append("container-a", [sig("p")], "any", meta);
    const [e] = j.readStream("container-a");
    assert.equal(e, { type: "SignalSent", data: { processId: "p", signal: "SIGTERM" }, eventId: "ev-1", time: T0, commandId: "cmd", correlationId: "corr", causationId: "cause", actor: meta.actor, position: 1, streamId: "container-a", version: 1, schemaVersion: 1 });
  }));

test("reads: one stream, from a position, and filtered by stream, type, time range and actor", () =>
  withJournal(async (j) => {
    j.append("container-a", history.running("a"), "noStream", { time: T0, actor: { uid: 0, gid: 0, pid: 1 } });
    j.append("container-b", history.created("b"), "noStream", { time: T0 + 5000, actor: { uid: 1000, gid: 1000, pid: 2 } });
    j.append("container-a", [sig("a")], "any", { time: T0 + 9000, actor: { uid: 0, gid: 0, pid: 1 } });
    assert.equal(j.readStream("container-a").map((e) => e.version), [1, 2, 3, 4, 5, 6]);
    assert.equal([...j.readAll(5)].map((e) => e.position), [6, 7]);
    assert.equal((await j.query({ streamId: "container-b" })).map((e) => e.position), [6]);
    assert.equal((await j.query({ types: ["ContainerCreated"] })).map((e) => e.streamId), ["container-a", "container-b"]);
    assert.equal((await j.query({ since: T0 + 1, until: T0 + 6000 })).map((e) => e.position), [6]);
    assert.equal((await j.query({ actorUid: 1000 })).map((e) => e.position), [6]);
    assert.equal((await j.query({ after: 2, upTo: 4 })).map((e) => e.position), [3, 4]);
  }));

test("the CLI's questions: the last position at a time, counts by type and the time span", () =>
  withJournal((j) => {
    assert.equal(j.stats(), { events: 0, firstTime: null, lastTime: null, byType: [] });
    assert.is(j.lastPositionAt(T0), 0, "an empty journal has no position at any time");
    j.append("container-a", history.created("a"), "noStream", { time: T0 });
    j.append("container-a", [sig("a"), sig("a")], "any", { time: T0 + 5000 });
    assert.is(j.lastPositionAt(T0 - 1), 0);
    assert.is(j.lastPositionAt(T0 + 4999), 1);
    assert.is(j.lastPositionAt(T0 + 5000), 3);
    assert.equal(j.stats(), { events: 3, firstTime: T0, lastTime: T0 + 5000, byType: [{ type: "SignalSent", count: 2 }, { type: "ContainerCreated", count: 1 }] });
    // The filtered read answers synchronously, like every other read.
    assert.equal(j.query({ types: ["SignalSent"] }).map((e) => e.position), [2, 3]);
  }));

test("subscribers hear the new head only after the commit", () =>
  withJournal(async (j) => {
    const heard: number[] = [];
    j.subscribe((position) => heard.push(position));
    j.append("container-a", [sig("p"), sig("q")], "any");
    assert.throws(() => j.append("container-a", [sig("p")], "noStream"));
    await new Promise((r) => setImmediate(r));
    assert.equal(heard, [2]);
  }));

test("checkpoints advance in the same transaction as an append", () =>
  withJournal((j) => {
    j.append("container-a", [sig("p")], "any", {}, { checkpoint: { name: "reactor", position: 1 } });
    assert.is(j.checkpoint("reactor"), 1);
    assert.throws(() => j.append("container-a", [sig("p")], "noStream", {}, { checkpoint: { name: "reactor", position: 9 } }));
    assert.is(j.checkpoint("reactor"), 1, "a failed append does not move the checkpoint");
  }));

test("snapshots restore at their position, and stateAt time-travels", () =>
  withJournal((j) => {
    j.append("container-a", history.stopped("a"), "noStream");
    const full = fold(j.readAll());
    const early = stateAt(j, 3);
    assert.is(early.containers.a?.status, "booted");
    j.saveSnapshot("projection", early.position, early);
    const snap = j.loadSnapshot<typeof early>("projection")!;
    assert.is(snap.position, 3);
    assert.equal(fold(j.readAll(snap.position), snap.state), full);
    assert.equal(stateAt(j, j.head().position, snap.state), full);
  }));

test("a snapshot with more than 65,535 entries in one map round-trips", () =>
  withJournal((j) => {
    const deleted: Record<string, number> = {};
    for (let i = 0; i < 70_000; i++) deleted[`c${i}`] = 11;
    j.append("container-a", [sig("p"), sig("p"), sig("p"), sig("p"), sig("p")], "any");
    j.saveSnapshot("projection", 5, { position: 5, containers: {}, deleted } as never);
    assert.is(Object.keys(j.loadSnapshot<{ deleted: Record<string, number> }>("projection")!.state.deleted).length, 70_000);
  }));

test("a second writer on the same journal gets a typed error and the first is undisturbed", () =>
  withJournal(async (j) => {
    j.append("container-a", [sig("p")], "any");
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e",
      `import { Journal } from ${JSON.stringify(join(import.meta.dirname, "../src/events/journal.ts"))};
       try { await Journal.open(${JSON.stringify(j.path)}); console.log("opened"); } catch (e) { console.log(e.code + ": " + e.message); }`], { encoding: "utf8" });
    assert.match(child.stdout, new RegExp(`^exists: journal .* is already open for writing by pid ${process.pid}`));
    await assert.not.throws(() => j.append("container-a", [sig("p")], "any"));
    assert.is(j.head().position, 2);
  }));

test("a full disk is a typed error, appends nothing, and the journal stays intact", async () => {
  const dir = tempDir();
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=400k", "tmpfs", dir.path]);
  try {
    const journal = await Journal.open(join(dir.path, "journal.db"));
    try {
      const big = (i: number): ContainerEvent => ({ type: "SignalSent", data: { processId: `p${i}`, signal: "x".repeat(4000) } });
      let error: unknown;
      let appended = 0;
      for (let i = 0; i < 1000 && !error; i++) {
        try {
          journal.append("container-a", [big(i)], "any");
          appended++;
        } catch (e) {
          error = e;
        }
      }
      assert.instance(error, BerthError);
      assert.is((error as BerthError).code, "internalError");
      assert.match((error as BerthError).message, /disk is full/);
      assert.is(journal.head().position, appended);
      assert.ok(journal.verify().ok);
    } finally {
      journal.close();
    }
  } finally {
    execFileSync("umount", [dir.path]);
    dir.remove();
  }
});

test("a file that is not a journal is a typed error", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "junk.db");
    (await import("node:fs")).writeFileSync(path, "this is not sqlite ".repeat(100));
    try {
      await Journal.open(path);
      assert.unreachable("opened junk");
    } catch (e) {
      assert.is((e as BerthError).code, "invalidArgument");
    }
  } finally {
    dir.remove();
  }
});

test.run();
