// Positions are never handed out twice; snapshots are checked against the chain at load; the
// one gap verify allows is the one a JournalLossAccepted names; witnesses prove a lost tail.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ContainerEvent } from "../src/events/catalogue.js";
import { Journal } from "../src/events/journal.js";
import { snapshotDigest } from "../src/events/snapshot.js";
import { findJournalLoss } from "../src/events/witness.js";
import { fold } from "../src/projections/index.js";
import { checkSnapshotStreams, verifySnapshots } from "../src/daemon/snapshot-check.js";
import { SNAPSHOT_NAME, Store } from "../src/daemon/store.js";
import { history } from "./helpers/model.js";
import { onSqliteFile } from "./helpers/sqlite-file.js";
import { tempDir } from "./helpers/tmp.js";

async function withJournal(fn: (journal: Journal) => Promise<void> | void) {
  const dir = tempDir();
  const journal = await Journal.open(join(dir.path, "journal.db"));
  try {
    await fn(journal);
  } finally {
    journal.close();
    dir.remove();
  }
}

const sig = (): ContainerEvent => ({ type: "SignalSent", data: { processId: "p", signal: "SIGTERM" } });
const five = (j: Journal) => j.append("container-a", [sig(), sig(), sig(), sig(), sig()], "any");

test("after rows are deleted from the end, the next append does not reuse their positions", () =>
  withJournal((j) => {
    five(j);
    onSqliteFile(j.path, (db) => db.prepare("DELETE FROM events WHERE position >= 4").run());
    const [next] = j.append("container-a", [sig()], "any").events;
    assert.is(next!.position, 6, "positions 4 and 5 were written once; they are not handed out again");
  }));

test("a snapshot is used only if its digest, position and chain hash agree with the journal", () =>
  withJournal((j) => {
    five(j);
    j.saveSnapshot("projection", 3, { position: 3, containers: {} });
    assert.equal(j.loadSnapshot("projection")?.position, 3);
    const reasons: string[] = [];
    const load = () => j.loadSnapshot("projection", (r) => reasons.push(r));

    onSqliteFile(j.path, (db) => db.prepare("UPDATE snapshots SET body = x'c1c1c1'").run());
    assert.is(load(), undefined);
    assert.match(reasons.pop()!, /digest does not match/);

    // A forger who recomputes the digest but points the snapshot elsewhere in the chain.
    const body = Buffer.from([0x80]);
    const forged = (position: number, hash: Buffer) => onSqliteFile(j.path, (db) => db.prepare("UPDATE snapshots SET position = ?, body = ?, hash = ?, digest = ?").run(position, body, hash, snapshotDigest("projection", position, hash, body)));
    forged(3, j.hashAt(2)!);
    assert.is(load(), undefined);
    assert.match(reasons.pop()!, /chain hash is not the journal's hash at that position/);
    forged(9, j.hashAt(5)!);
    assert.is(load(), undefined);
    assert.match(reasons.pop()!, /past the journal's head position 5/);
  }));

test("verify allows the gap a JournalLossAccepted names, and no other", () =>
  withJournal((j) => {
    five(j);
    onSqliteFile(j.path, (db) => db.prepare("DELETE FROM events WHERE position >= 4").run());
    const bad = j.verify();
    assert.equal(bad.ok ? 0 : bad.position, 4);
    const loss = findJournalLoss(j, [{ position: 7, source: "ack" }])!;
    assert.equal({ from: loss.from, to: loss.to, head: loss.head }, { from: 4, to: 7, head: 3 });
    j.append("daemon", [{ type: "JournalLossAccepted", data: loss }], "any", {}, { above: 7 });
    const ok = j.verify();
    assert.ok(ok.ok, JSON.stringify(ok));
    if (ok.ok) assert.equal(ok.losses, [{ position: 8, from: 4, to: 7 }]);
    assert.is(findJournalLoss(j, [{ position: 7, source: "ack" }]), undefined, "an accepted loss is accounted for");
    assert.is(j.append("container-a", [sig()], "any").events[0]!.position, 9);
  }));

test("a witness whose position now holds another event proves the journal was rewritten", () =>
  withJournal((j) => {
    five(j);
    const hash = j.hashAt(5)!.toString("hex");
    assert.is(findJournalLoss(j, [{ position: 5, hash, source: "ack" }]), undefined);
    const loss = findJournalLoss(j, [{ position: 5, hash: "00".repeat(32), source: "ack" }]);
    assert.match(loss?.evidence[0] ?? "", /ack acknowledges position 5, which now holds another event/);
  }));

test("a snapshot that leaves a live container out passes the daemon's check; verify's re-fold names it", () =>
  withJournal((j) => {
    j.append("container-a", history.stopped("a"), "noStream");
    j.append("container-b", history.stopped("b"), "noStream");
    const honest = fold(j.readAll());
    const position = j.head().position;
    j.saveSnapshot("projection", position, honest);
    assert.equal(verifySnapshots(j), []);
    assert.is(checkSnapshotStreams(j, honest, position), undefined);

    const forged = structuredClone(honest);
    forged.containers.a!.config.init.args = ["cat", "/etc/shadow"];
    assert.match(checkSnapshotStreams(j, forged, position) ?? "", /container a differs from the journal's fold of its stream at containers\.a\.config\.init\.args/);

    const hiding = structuredClone(honest);
    delete hiding.containers.b;
    assert.is(checkSnapshotStreams(j, hiding, position), undefined, "the daemon's cheap check does not see a container left out");
    j.saveSnapshot("projection", position, hiding);
    const [problem] = verifySnapshots(j);
    assert.match(problem?.reason ?? "", /snapshot "projection" \(position \d+\) differs from the journal's fold at containers\.b/);
  }));

test("a snapshot from before ContainerState kept createdBy is used, and gets it from the fold; a forged one still differs", () =>
  withJournal((j) => {
    j.append("container-a", history.stopped("a"), "noStream", { commandId: "make-a" });
    const honest = fold(j.readAll());
    const position = j.head().position;
    const created = j.readStream("container-a")[0]!;
    assert.equal(honest.containers.a!.createdBy, { eventId: created.eventId, correlationId: "make-a" });

    const old = structuredClone(honest);
    delete old.containers.a!.createdBy;
    j.saveSnapshot(SNAPSHOT_NAME, position, old);
    assert.equal(verifySnapshots(j), [], "verify accepts the old snapshot");
    const store = new Store(j, { uid: 0, gid: 0, pid: 1 });
    assert.is(store.snapshotDiscarded, undefined, "the daemon does not discard it");
    assert.equal(store.container("a")!.createdBy, honest.containers.a!.createdBy, "the daemon's projection has it");

    const forged = structuredClone(honest);
    forged.containers.a!.createdBy = { eventId: "someone-else" };
    assert.match(checkSnapshotStreams(j, forged, position) ?? "", /containers\.a\.createdBy\.eventId/);
  }));

test.run();
