// Registry mirrors from a registries.conf (v2, as podman's), against two real registries on
// loopback, each behind a logging proxy: a mirror is tried first, a mirror that is down or lacks
// the image falls back to the registry itself, pull-from-mirror limits what a mirror serves, a
// mirror never gets the registry's credentials, and `berth daemon --registries-conf` applies it.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseRegistriesConf, type RegistriesConfig } from "../src/model/registries.js";
import { pullImage } from "../src/vm/image/pull.js";
import { bin, berth, ensureBuilt, tempRoot } from "./helpers/cli-env.js";
import { withDaemon } from "./helpers/daemon.js";
import { buildImage, busyboxTree, proxy, push, startRegistry, type Registry } from "./helpers/registry.js";
import { tempDir } from "./helpers/tmp.js";

let origin: Registry;
let mirror: Registry;
let work: ReturnType<typeof tempDir>;
let front: Awaited<ReturnType<typeof proxy>>;
let mirrorFront: Awaited<ReturnType<typeof proxy>>;
const hostOf = (p: { origin: string }) => p.origin.replace("http://", "");

test.before(async () => {
  [origin, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  work = tempDir("berth-mirror-");
  const layout = join(work.path, "oci");
  const tree = busyboxTree(work.path);
  buildImage(layout, "app", tree, { cmd: ["echo", "hi"] });
  buildImage(layout, "other", busyboxTree(work.path, { "srv/other": "x\n" }, "other-tree"), { cmd: ["echo", "other"] });
  push(layout, "app", `${origin.host}/t/app:1`);
  push(layout, "other", `${origin.host}/t/other:1`);
  push(layout, "app", `${mirror.host}/t/app:1`); // the mirror has app, not other
  front = await proxy(`http://${origin.host}`);
  mirrorFront = await proxy(`http://${mirror.host}`);
});

test.after(async () => {
  await front?.close();
  await mirrorFront?.close();
  await origin?.stop();
  await mirror?.stop();
  work?.remove();
});

const conf = (text: string): RegistriesConfig => {
  const r = parseRegistriesConf(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const reset = () => {
  front.seen.length = 0;
  mirrorFront.seen.length = 0;
};

test("a mirror is tried first; one that is down or lacks the image falls back to the registry itself", async () => {
  const root = tempDir();
  try {
    reset();
    const registries = conf(`[[registry]]\nprefix = "${hostOf(front)}"\n[[registry.mirror]]\nlocation = "127.0.0.1:9"  # down\n[[registry.mirror]]\nlocation = "${hostOf(mirrorFront)}"\n`);
    const seen: string[] = [];
    const app = await pullImage(root.path, `${hostOf(front)}/t/app:1`, { registries, onProgress: (p) => p.kind === "fallback" && seen.push(p.mirror) });
    assert.is(app.record.reference, `${hostOf(front)}/t/app:1`, "the image keeps the name it was asked by");
    assert.equal(seen, ["127.0.0.1:9"]);
    assert.ok(mirrorFront.seen.some((s) => s.url.includes("/blobs/")), "the layers came from the mirror");
    assert.equal(front.seen, [], "the registry itself was not asked");

    const other = await pullImage(root.path, `${hostOf(front)}/t/other:1`, { registries, onProgress: (p) => p.kind === "fallback" && seen.push(p.mirror) });
    assert.is(other.changed, true);
    assert.equal(seen, ["127.0.0.1:9", "127.0.0.1:9", hostOf(mirrorFront)], "the mirror without it fell back too");
    assert.ok(front.seen.some((s) => s.url === "/v2/t/other/manifests/1"));

    const down = await pullImage(root.path, `${hostOf(front)}/t/nope:1`, { registries }).catch((e) => e);
    assert.is(down.code, "notFound", "the registry's own error");
    assert.match(down.message, /manifest unknown .*after the mirrors failed: 127\.0\.0\.1:9: cannot reach registry/);
  } finally {
    root.remove();
  }
});

test("pull-from-mirror = digest-only keeps tags on the registry; credentials never go to a mirror; a location rewrites", async () => {
  const root = tempDir();
  try {
    reset();
    const digestOnly = conf(`[[registry]]\nprefix = "${hostOf(front)}/t"\n[[registry.mirror]]\nlocation = "${hostOf(mirrorFront)}/t"\npull-from-mirror = "digest-only"\n`);
    const byTag = await pullImage(root.path, `${hostOf(front)}/t/app:1`, { registries: digestOnly, credentials: { username: "u", password: "pw" } });
    assert.equal(mirrorFront.seen, [], "a tag is not pulled from a digest-only mirror");
    const byDigest = await pullImage(root.path, `${hostOf(front)}/t/app@${byTag.record.manifest}`, { registries: digestOnly, credentials: { username: "u", password: "pw" } });
    assert.is(byDigest.record.manifest, byTag.record.manifest);
    assert.ok(mirrorFront.seen.some((s) => s.url === `/v2/t/app/manifests/${byTag.record.manifest}`));
    assert.equal(mirrorFront.seen.filter((s) => s.authorization), [], "the mirror never saw the credentials");

    reset();
    // A name no DNS knows (.test), rewritten to the loopback registry: nothing goes elsewhere.
    const rewrite = conf(`[[registry]]\nprefix = "registry.example.test"\nlocation = "${hostOf(front)}"\n`);
    const r = await pullImage(root.path, "registry.example.test/t/other:1", { registries: rewrite });
    assert.is(r.record.reference, "registry.example.test/t/other:1");
    assert.ok(front.seen.some((s) => s.url === "/v2/t/other/manifests/1"));

    const blocked = await pullImage(root.path, `${hostOf(front)}/t/app:1`, { registries: conf(`[[registry]]\nlocation = "${hostOf(front)}"\nblocked = true\n`) }).catch((e) => e);
    assert.is(blocked.code, "invalidArgument");
    assert.match(blocked.message, /is blocked by the registries config/);
  } finally {
    root.remove();
  }
});

test("a registries.conf that berth cannot read names the file and line", () => {
  const v1 = parseRegistriesConf(`[registries.search]\nregistries = ["docker.io"]\n`, "/etc/r.conf");
  assert.equal(v1.ok ? undefined : v1.error.code, "unsupported");
  const badLine = parseRegistriesConf(`unqualified-search-registries = ["docker.io"]\n[[registry]]\nprefix = docker.io\n`, "/etc/r.conf");
  assert.match(badLine.ok ? "" : badLine.error.message, /^\/etc\/r\.conf:3: expected key = /);
  const scheme = parseRegistriesConf(`[[registry]]\nprefix = "a.example"\n[[registry.mirror]]\nlocation = "https://m.example"\n`);
  assert.match(scheme.ok ? "" : scheme.error.message, /invalid mirror location "https:\/\/m\.example": expected host\[:port\]\[\/path\], without a scheme/);
  const mode = parseRegistriesConf(`[[registry]]\nprefix = "a.example"\n[[registry.mirror]]\nlocation = "m.example"\npull-from-mirror = "sometimes"\n`);
  assert.match(mode.ok ? "" : mode.error.message, /pull-from-mirror must be a one of all, digest-only, tag-only/);
});

test("berth daemon --registries-conf: berth pull goes through the mirror and says when one failed", async () => {
  ensureBuilt();
  const file = join(work.path, "registries.conf");
  fs.writeFileSync(file, `[[registry]]\nprefix = "${hostOf(front)}"\n[[registry.mirror]]\nlocation = "127.0.0.1:9"\n[[registry.mirror]]\nlocation = "${hostOf(mirrorFront)}"\ninsecure = true\n`);
  reset();
  await withDaemon(tempRoot(), async (d) => {
    const p = await berth(d.root, ["pull", `${hostOf(front)}/t/app:1`]);
    assert.is(p.code, 0, p.stderr);
    assert.match(p.stderr, /^mirror 127\.0\.0\.1:9 failed, trying the next: cannot reach registry 127\.0\.0\.1:9/);
    assert.match(p.stdout, /Status: Downloaded newer image/);
    assert.equal(front.seen, []);
  }, { command: [bin, "daemon", "--registries-conf", file] });

  fs.writeFileSync(file, `[[registry]]\nprefix = "x"\n[[registry.mirror]]\n`);
  const refused = await withDaemon(tempRoot(), async () => undefined, { command: [bin, "daemon", "--registries-conf", file] }).catch((e: Error) => e);
  assert.instance(refused, Error);
  assert.match((refused as Error).message, /invalid mirror location ""/);
});

test.run();
