// The registry client's edges, against the real registry behind small HTTP servers the test
// runs on loopback: Basic auth, a blob redirect to another host (which must not get the
// credentials), and a connection cut mid-blob (the retry resumes with Range).
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { imageLowers } from "../src/vm/image/layers.js";
import { pullImage } from "../src/vm/image/pull.js";
import { ImageStore } from "../src/vm/image/store.js";
import { buildImage, busyboxTree, layersOf, proxy, push, startRegistry, type Registry } from "./helpers/registry.js";
import { tempDir } from "./helpers/tmp.js";

let registry: Registry;
let work: ReturnType<typeof tempDir>;
let layer: string;

test.before(async () => {
  registry = await startRegistry();
  work = tempDir("berth-registry-client-");
  const layout = join(work.path, "oci");
  buildImage(layout, "app", busyboxTree(work.path), { cmd: ["echo", "hi"] });
  push(layout, "app", `${registry.host}/t/app:1`);
  layer = layersOf(layout, "app")[0]!;
});

test.after(async () => {
  await registry?.stop();
  work?.remove();
});

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

test("basic auth: the credentials answer the challenge; a blob redirected to another host goes there without them", async () => {
  const storage = await proxy(`http://${registry.host}`);
  const front = await proxy(`http://${registry.host}`, { requireAuth: basic("u", "secret"), redirectBlobsTo: storage.origin });
  const root = tempDir();
  try {
    const ref = `${front.origin.replace("http://", "")}/t/app:1`;
    const r = await pullImage(root.path, ref, { credentials: { username: "u", password: "secret" } });
    assert.is(r.changed, true);
    const lowers = imageLowers(new ImageStore(root.path), r.record.manifest);
    assert.ok(lowers && fs.existsSync(join(lowers.base, lowers.names[0]!, "bin", "busybox")));
    assert.ok(front.seen.some((s) => s.authorization === basic("u", "secret")), "the registry got the credentials");
    assert.ok(storage.seen.some((s) => s.url.includes(layer.slice(7))), "the layer came from the other host");
    assert.equal(storage.seen.filter((s) => s.authorization !== undefined), [], "the other host never got an Authorization header");
  } finally {
    root.remove();
    await front.close();
    await storage.close();
  }
});

test("wrong or missing credentials give invalidArgument: unauthorized, and nothing is stored", async () => {
  const front = await proxy(`http://${registry.host}`, { requireAuth: basic("u", "secret") });
  const root = tempDir();
  try {
    const ref = `${front.origin.replace("http://", "")}/t/app:1`;
    const wrong = await pullImage(root.path, ref, { credentials: { username: "u", password: "nope" } }).catch((e) => e);
    assert.is(wrong.code, "invalidArgument");
    assert.match(wrong.message, /unauthorized: .* refused the credentials of u/);
    const anonymous = await pullImage(root.path, ref).catch((e) => e);
    assert.is(anonymous.code, "invalidArgument");
    assert.match(anonymous.message, /needs credentials/);
    assert.equal(new ImageStore(root.path).refs(), {});
    assert.not.ok(fs.existsSync(join(root.path, "images", "blobs")));
  } finally {
    root.remove();
    await front.close();
  }
});

test("a connection cut mid-blob is retried from where it stopped, with Range, and the blob verifies", async () => {
  const cutAt = 300_000;
  const front = await proxy(`http://${registry.host}`, { cutFirstBlobAt: cutAt });
  const root = tempDir();
  try {
    const r = await pullImage(root.path, `${front.origin.replace("http://", "")}/t/app:1`);
    assert.ok(r.record.layers.includes(layer));
    const gets = front.seen.filter((s) => s.url.endsWith(layer));
    assert.is(gets.length, 2, JSON.stringify(gets));
    assert.match(gets[1]!.range ?? "", /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(gets[1]!.range!)![0]) > 0, "the retry asked only for the rest");
    assert.ok(new ImageStore(root.path).hasBlob(layer));
  } finally {
    root.remove();
    await front.close();
  }
});

test.run();
