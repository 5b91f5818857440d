// The layer store against a real registry: images that share a base share its layer
// directories on disk (the same inodes inside their containers), an upper layer's whiteouts
// and opaque directories hide what the base has, a 40-layer image runs, and image rm frees a
// layer only when no image is built on it and no container uses it.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chainIds } from "../src/vm/image/layers.js";
import { berth, withDaemon } from "./helpers/cli-env.js";
import { buildImage, busyboxTree, layersOf, push, startRegistry, type Registry } from "./helpers/registry.js";
import { tempDir } from "./helpers/tmp.js";

let registry: Registry;
let work: ReturnType<typeof tempDir>;
let layout: string;

/** A directory holding `files` (path → text), for one `umoci insert`. */
function tree(name: string, files: Record<string, string>): string {
  const dir = join(work.path, name);
  for (const [path, text] of Object.entries(files)) {
    fs.mkdirSync(join(dir, path, ".."), { recursive: true });
    fs.writeFileSync(join(dir, path), text);
  }
  return dir;
}

const umoci = (...args: string[]) => execFileSync("umoci", args, { stdio: ["ignore", "ignore", "pipe"] });

/** A new tag `tag` of the layout's `from` image. */
function derive(from: string, tag: string): string {
  umoci("tag", "--image", `${layout}:${from}`, tag);
  return `${layout}:${tag}`;
}

test.before(async () => {
  registry = await startRegistry();
  work = tempDir("berth-layers-");
  layout = join(work.path, "oci");
  buildImage(layout, "base", busyboxTree(work.path, { "etc/motd": "base\n", "srv/base": "base\n" }), { cmd: ["busybox", "sleep", "60"] });
  // a: a file of its own, and the base's /etc/motd deleted (a whiteout).
  umoci("insert", "--image", derive("base", "a"), tree("a-tree", { a: "a\n" }), "/srv");
  umoci("insert", "--image", `${layout}:a`, "--whiteout", "/etc/motd");
  // b: /srv replaced whole (an opaque directory).
  umoci("insert", "--image", derive("base", "b"), "--opaque", tree("b-tree", { only: "b\n" }), "/srv");
  // deep: 40 layers, each adding one file.
  derive("base", "deep");
  for (let i = 2; i <= 40; i++) umoci("insert", "--image", `${layout}:deep`, tree(`deep-${i}`, { f: `${i}\n` }), `/deep/${i}`);
  for (const t of ["a", "b", "deep"]) push(layout, t, `${registry.host}/t/${t}:1`);
});

test.after(async () => {
  await registry?.stop();
  work?.remove();
});

const inode = (root: string, ctr: string, path: string) => berth(root, ["exec", ctr, "busybox", "stat", "-c", "%i", path]).then((r) => r.stdout.trim());

test("two images built on one base share its layer directory: the same inode in both containers, and upper whiteouts hide base files", () =>
  withDaemon(async (root) => {
    for (const t of ["a", "b"]) assert.is((await berth(root, ["pull", "-q", `${registry.host}/t/${t}:1`])).code, 0);
    const layers = join(root, "images", "layers");
    const [chainsA, chainsB] = [chainIds(layersOf(layout, "a")), chainIds(layersOf(layout, "b"))];
    assert.is(chainsA[0], chainsB[0], "the base layer has one chain id");
    assert.equal(fs.readdirSync(layers).sort(), [...new Set([...chainsA, ...chainsB])].sort(), "one directory per distinct layer: the base once");
    assert.is(chainsA.length + chainsB.length - 1, fs.readdirSync(layers).length);
    assert.is((await berth(root, ["info", "--format", "{{.Images}}"])).stdout, "2\n", "info counts images, not the store's directories");

    for (const t of ["a", "b"]) assert.is((await berth(root, ["run", "-d", "--name", t, `${registry.host}/t/${t}:1`])).code, 0);
    const onDisk = String(fs.statSync(join(layers, chainsA[0]!, "bin", "busybox")).ino);
    assert.is(await inode(root, "a", "/bin/busybox"), onDisk, "a's /bin/busybox is the base layer's file");
    assert.is(await inode(root, "b", "/bin/busybox"), onDisk, "and so is b's");

    const motd = await berth(root, ["exec", "a", "cat", "/etc/motd"]);
    assert.is.not(motd.code, 0, "the whiteout in a's layer hides the base's /etc/motd");
    assert.is((await berth(root, ["exec", "a", "cat", "/srv/a", "/srv/base"])).stdout, "a\nbase\n");
    assert.is((await berth(root, ["exec", "b", "ls", "/srv"])).stdout, "only\n", "b's opaque /srv hides the base's files");
    assert.is((await berth(root, ["exec", "b", "cat", "/etc/motd"])).stdout, "base\n");
    assert.ok(fs.existsSync(join(layers, chainsA[0]!, "etc", "motd")), "the base layer itself is untouched");

    // A container writes into its own upper layer, never into the shared one.
    assert.is((await berth(root, ["exec", "b", "sh", "-c", "echo changed > /etc/motd"])).code, 0);
    assert.is(fs.readFileSync(join(layers, chainsA[0]!, "etc", "motd"), "utf8"), "base\n");
    assert.is((await berth(root, ["exec", "a", "ls", "/etc/motd"])).code, 1);

    // A container keeps its image's layers after `image rm -f`, as docker does: it starts again.
    assert.is((await berth(root, ["rm", "-f", "b"])).code, 0);
    assert.is((await berth(root, ["kill", "a"])).code, 0);
    const refused = await berth(root, ["image", "rm", `${registry.host}/t/a:1`]);
    assert.is(refused.code, 125);
    assert.match(refused.stderr, /container a uses it/);
    assert.is((await berth(root, ["image", "rm", "-f", `${registry.host}/t/a:1`])).code, 0);
    assert.equal(fs.readdirSync(layers).sort(), [...new Set([...chainsA, ...chainsB])].sort(), "every layer a still needs stays");
    assert.is((await berth(root, ["start", "a"])).code, 0);
    assert.is((await berth(root, ["exec", "a", "cat", "/srv/a"])).stdout, "a\n");

    // Once a is gone, the next sweep frees its own layers, never the base b stands on.
    assert.is((await berth(root, ["rm", "-f", "a"])).code, 0);
    assert.is((await berth(root, ["image", "tag", `${registry.host}/t/b:1`, "extra:1"])).code, 0);
    assert.is((await berth(root, ["image", "rm", "extra:1"])).code, 0);
    assert.equal(fs.readdirSync(layers).sort(), [...chainsB].sort());
    assert.is((await berth(root, ["run", "--rm", `${registry.host}/t/b:1`, "cat", "/srv/only"])).stdout, "b\n");
    assert.is((await berth(root, ["image", "rm", `${registry.host}/t/b:1`])).code, 0);
    assert.equal(fs.readdirSync(layers), []);
  }));

test("a 40-layer image runs: every layer's file is there", () =>
  withDaemon(async (root) => {
    const ref = `${registry.host}/t/deep:1`;
    assert.is(layersOf(layout, "deep").length, 40);
    const r = await berth(root, ["run", "--rm", ref, "sh", "-c", "cat /deep/*/f | wc -l; cat /deep/40/f /srv/base"]);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout.replace(/ +/g, ""), "39\n40\nbase\n");
    assert.is(fs.readdirSync(join(root, "images", "layers")).length, 40);
  }));

test.run();
