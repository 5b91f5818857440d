// A daemon killed with kill -9 in the middle of a pull (or a load) leaves no half image: no
// reference, no unpacked tree, no blob that was not verified, no event. The next daemon starts
// clean, and the next pull completes, resuming the interrupted blob with Range.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, berthLive, bin, ensureBuilt, tempRoot } from "./helpers/cli-env.js";
import { journalAfterKill, journalEvents, withDaemon } from "./helpers/daemon.js";
import { buildImage, busyboxTree, layersOf, proxy, push, startRegistry } from "./helpers/registry.js";
import { tempDir } from "./helpers/tmp.js";
import { bigArchive } from "./helpers/vm-tar.js";
import { chainIds } from "../src/vm/image/layers.js";
import { IMAGE_STREAM } from "../src/events/catalogue.js";

test("kill -9 mid-pull: nothing half-made is visible, and the next pull resumes and completes", async () => {
  ensureBuilt();
  const registry = await startRegistry();
  const work = tempDir("berth-crash-pull-");
  const front = await proxy(`http://${registry.host}`, { stallFirstBlobAt: 400_000 });
  try {
    const layout = join(work.path, "oci");
    buildImage(layout, "app", busyboxTree(work.path), { cmd: ["echo", "hi"] });
    push(layout, "app", `${registry.host}/t/app:1`);
    const layer = layersOf(layout, "app")[0]!;
    const ref = `${front.origin.replace("http://", "")}/t/app:1`;
    await withDaemon(tempRoot(), async (d) => {
      const pulling = berthLive(d.root, ["pull", ref]);
      await front.stalled;
      const ingest = join(d.root, "images", "ingest", layer.slice(7));
      for (let i = 0; i < 200 && !(fs.existsSync(ingest) && fs.statSync(ingest).size > 0); i++) await new Promise((r) => setTimeout(r, 25));
      await d.kill9();
      await pulling.exited;

      await d.restart();
      const images = join(d.root, "images");
      assert.not.ok(fs.existsSync(join(images, "refs.json")), "no reference");
      assert.not.ok(fs.existsSync(join(images, "layers")), "no layer directory");
      assert.not.ok(fs.existsSync(join(images, "blobs", "sha256", layer.slice(7))), "the interrupted layer is no blob");
      assert.equal(fs.readdirSync(images).filter((n) => n.startsWith(".")), [], "no temp files left");
      const partial = fs.statSync(ingest).size;
      assert.ok(partial > 0, "what arrived stays in ingest/ for the resume");
      assert.not.ok((await journalEvents(d.root)).some((e) => e.type.startsWith("Image")));

      const again = await berth(d.root, ["pull", ref]);
      assert.is(again.code, 0, again.stderr);
      const gets = front.seen.filter((s) => s.url.endsWith(layer));
      assert.is(gets.length, 2);
      assert.is(gets[1]!.range, `bytes=${partial}-`);
      assert.is((await berth(d.root, ["run", "--rm", ref])).stdout, "hi\n");
    }, { command: [bin, "daemon"] });
  } finally {
    await front.close();
    await registry.stop();
    work.remove();
  }
});

/** What the daemon journals first when it removes a reference: the test does it for a daemon already killed. */
function journalRemoved(root: string, reference: string, digest: string): Promise<void> {
  return journalAfterKill(root, IMAGE_STREAM, [{ type: "ImageRemoved", data: { reference, digest, freed: [] } }]);
}

test("the journal decides what images there are: kill -9 after an rm's event (the file and the sweep not done), after a pull's file (its event not done), and a lost refs.json", async () => {
  ensureBuilt();
  const registry = await startRegistry();
  const work = tempDir("berth-crash-rm-");
  try {
    const layout = join(work.path, "oci");
    buildImage(layout, "app", busyboxTree(work.path), { cmd: ["echo", "hi"] });
    push(layout, "app", `${registry.host}/t/app:1`);
    buildImage(layout, "other", busyboxTree(work.path, { "srv/x": "x\n" }, "other-tree"), { cmd: ["echo", "other"] });
    push(layout, "other", `${registry.host}/t/other:1`);
    await withDaemon(tempRoot(), async (d) => {
      const [app, other] = [`${registry.host}/t/app:1`, `${registry.host}/t/other:1`];
      for (const r of [app, other]) assert.is((await berth(d.root, ["pull", "-q", r])).code, 0);
      const images = join(d.root, "images");
      const readRefs = () => JSON.parse(fs.readFileSync(join(images, "refs.json"), "utf8"));
      const refs = readRefs();
      const chainOf = (r: string) => chainIds(refs[r].layers).pop()!;
      const gone = chainOf(other);

      // An rm killed right after its event: refs.json still names the image, nothing swept.
      await d.kill9();
      await journalRemoved(d.root, other, refs[other].manifest);
      await d.restart();
      assert.equal(Object.keys(readRefs()), [app], "the reference the journal removed is dropped");
      assert.equal(fs.readdirSync(join(images, "layers")), [chainOf(app)], "the layer nothing needs is gone; the other stays");
      assert.is((await berth(d.root, ["run", "--rm", app])).stdout, "hi\n");

      // A pull killed after it wrote refs.json, before its event: the journal never saw it.
      await d.kill9();
      fs.writeFileSync(join(images, "refs.json"), JSON.stringify({ ...readRefs(), [other]: refs[other] }));
      await d.restart();
      assert.equal(Object.keys(readRefs()), [app], "a reference the journal does not name is dropped");
      assert.is((await berth(d.root, ["pull", "-q", other])).code, 0, "and it pulls again");
      assert.ok(fs.existsSync(join(images, "layers", gone)));

      // refs.json lost: the journal's references come back, from the blobs and layers in the store.
      await d.kill9();
      fs.rmSync(join(images, "refs.json"));
      await d.restart();
      assert.equal(Object.keys(readRefs()).sort(), [app, other].sort());
      assert.is(readRefs()[other].manifest, refs[other].manifest);
      assert.is((await berth(d.root, ["run", "--rm", other])).stdout, "other\n");
    }, { command: [bin, "daemon"] });
  } finally {
    await registry.stop();
    work.remove();
  }
});

test("kill -9 mid-load: the half-copied layer is removed at the next start, no image or event appears, and the load then completes", async () => {
  ensureBuilt();
  const work = tempDir("berth-crash-load-");
  try {
    const file = join(work.path, "big.tar");
    bigArchive(file, 256 * 1024 * 1024, "example.test/crash:1");
    await withDaemon(tempRoot(), async (d) => {
      const images = join(d.root, "images");
      const copying = () => (fs.existsSync(images) ? fs.readdirSync(images).filter((n) => n.startsWith(".blob-")) : []);
      const loading = berthLive(d.root, ["load", "-i", file]);
      for (let i = 0; i < 400 && copying().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.is(copying().length, 1, "the layer is being copied out of the archive");
      await d.kill9();
      await loading.exited;

      await d.restart();
      assert.equal(copying(), [], "the next start removed the half-copied layer");
      assert.not.ok(fs.existsSync(join(images, "refs.json")), "no reference");
      assert.not.ok((await journalEvents(d.root)).some((e) => e.type.startsWith("Image")), "no image event");
      const again = await berth(d.root, ["load", "-i", file]);
      assert.is(again.code, 0, again.stderr);
      assert.is(again.stdout, "Loaded image: example.test/crash:1\n");
    }, { command: [bin, "daemon"] });
  } finally {
    work.remove();
  }
});

test.run();
