// The registry client's edges, against the real registry behind small HTTP servers the test
// runs on loopback: Basic auth, a blob redirect to another host (which must not get the
// credentials), and a connection cut mid-blob (the retry resumes with Range).
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { pullImage } from "../src/vm/image/pull.js";
import { ImageStore } from "../src/vm/image/store.js";
import { buildImage, busyboxTree, layersOf, push, startRegistry, type Registry } from "./helpers/registry.js";
import { tempDir } from "./helpers/tmp.js";

interface Seen {
  url: string;
  authorization?: string;
  range?: string;
}

interface ProxyOptions {
  /** The Authorization header every request must carry (else 401 with a Basic challenge). */
  requireAuth?: string;
  /** Answer blob GETs with 307 to this origin. */
  redirectBlobsTo?: string;
  /** Cut the first blob response after this many bytes. */
  cutFirstBlobAt?: number;
}

/** An HTTP server on loopback that logs each request and relays it to the registry. */
async function proxy(upstream: string, opts: ProxyOptions = {}): Promise<{ origin: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  let cut = opts.cutFirstBlobAt !== undefined;
  const server = http.createServer(async (req, res) => {
    seen.push({ url: req.url!, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), ...(req.headers.range ? { range: req.headers.range } : {}) });
    if (opts.requireAuth && req.headers.authorization !== opts.requireAuth) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="test"', "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
      return;
    }
    const isBlob = req.url!.includes("/blobs/");
    if (isBlob && opts.redirectBlobsTo) {
      res.writeHead(307, { location: `${opts.redirectBlobsTo}${req.url}` });
      res.end();
      return;
    }
    const headers: Record<string, string> = {};
    for (const h of ["accept", "range"]) if (req.headers[h]) headers[h] = String(req.headers[h]);
    const up = await fetch(`${upstream}${req.url}`, { headers });
    const out: Record<string, string> = {};
    for (const h of ["content-type", "content-length", "content-range", "docker-content-digest"]) {
      const v = up.headers.get(h);
      if (v) out[h] = v;
    }
    const body = Buffer.from(await up.arrayBuffer());
    res.writeHead(up.status, out);
    if (isBlob && cut && body.length > opts.cutFirstBlobAt!) {
      cut = false;
      res.write(body.subarray(0, opts.cutFirstBlobAt));
      res.once("drain", () => res.destroy());
      setImmediate(() => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

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
    assert.ok(fs.existsSync(join(new ImageStore(root.path).unpackedPath(r.record.manifest), "bin", "busybox")));
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
