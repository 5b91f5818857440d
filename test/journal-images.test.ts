// The image references as the journal tells them (projections/images.ts): a pure fold of the
// image stream, which the image store's sweep and the daemon's start-up reconcile follow, and
// which a snapshot from before it held them gets from the journal.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { IMAGE_STREAM, type BerthEvent } from "../src/events/catalogue.js";
import { Journal } from "../src/events/journal.js";
import { checkSnapshotStreams, verifySnapshots } from "../src/daemon/snapshot-check.js";
import { fold, imagesInUse, type Projection } from "../src/projections/index.js";
import { tempDir } from "./helpers/tmp.js";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const actor = { uid: 0, gid: 0, pid: 1 };

const events: BerthEvent[] = [
  { type: "ImagePulled", data: { reference: "docker.io/library/a:1", digest: d("a"), config: d("1"), index: d("9"), platform: "linux/amd64", size: 10 } },
  { type: "ImageTagged", data: { reference: "docker.io/library/b:1", source: "docker.io/library/a:1", digest: d("a") } },
  { type: "ImageLoaded", data: { reference: "docker.io/library/c:1", digest: d("c"), config: d("3"), platform: "linux/amd64", size: 5, format: "oci-archive" } },
  { type: "ImageRemoved", data: { reference: "docker.io/library/a:1", digest: d("a"), freed: [] } },
  { type: "ImageTagged", data: { reference: "docker.io/library/bb:1", source: "busybox", digest: d("e") } },
];

async function withJournal(fn: (journal: Journal) => Promise<void> | void): Promise<void> {
  const dir = tempDir();
  const journal = await Journal.open(join(dir.path, "journal.db"));
  try {
    for (const e of events) journal.append(IMAGE_STREAM, [e], "any", { actor });
    await fn(journal);
  } finally {
    journal.close();
    dir.remove();
  }
}

test("each reference names what its last event says; a tag copies its source, an rm drops only that name", () =>
  withJournal((journal) => {
    const p = fold(journal.readAll());
    assert.equal(p.images, {
      "docker.io/library/b:1": { manifest: d("a"), config: d("1"), index: d("9") },
      "docker.io/library/c:1": { manifest: d("c"), config: d("3") },
      "docker.io/library/bb:1": { manifest: d("e") },
    });
    // What the sweep keeps: every reference's image, less the one being removed.
    assert.equal(imagesInUse(p).map((i) => i.manifest).sort(), [d("a"), d("c"), d("e")]);
    assert.equal(imagesInUse(p, "docker.io/library/c:1").map((i) => i.manifest).sort(), [d("a"), d("e")]);
  }));

test("a fold from a snapshot at any position and the tail gives the references of the whole fold; no image event, none", () =>
  withJournal((journal) => {
    const all = [...journal.readAll()];
    for (let n = 0; n <= all.length; n++) assert.equal(fold(all.slice(n), fold(all.slice(0, n))), fold(all));
    assert.equal(Object.keys(fold(all.slice(0, 1)).images!), ["docker.io/library/a:1"]);
    assert.is(fold([]).images, undefined);
  }));

test("a snapshot from before the projection held image references gets them from the journal; a forged one is caught", () =>
  withJournal((journal) => {
    const head = journal.head().position;
    const folded = fold(journal.readAll());
    const old: Projection = { position: head, containers: {} };
    assert.is(checkSnapshotStreams(journal, old, head), undefined);
    assert.equal(old.images, folded.images, "filled in place from the fold");
    const forged: Projection = { ...structuredClone(folded), images: { ...folded.images, "docker.io/library/x:1": { manifest: d("f") } } };
    assert.match(checkSnapshotStreams(journal, forged, head) ?? "", /image references differ .* images\.docker\.io\/library\/x:1/);
    journal.saveSnapshot("projection", head, { position: head, containers: {} });
    assert.equal(verifySnapshots(journal), [], "verify folds the same references into an old snapshot");
  }));

test.run();
