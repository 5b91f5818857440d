// Pulls against a real registry (test/helpers/registry.ts): the image's config is what runs,
// an index gives the host's platform (or the one asked for), a tampered blob is refused with
// nothing stored, and image rm frees what nothing else names.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, withDaemon } from "./helpers/cli-env.js";
import { journalEvents } from "./helpers/daemon.js";
import { buildImage, busyboxTree, layersOf, push, startRegistry, writeIndex, type Registry } from "./helpers/registry.js";
import { tempDir } from "./helpers/tmp.js";

let registry: Registry;
let work: ReturnType<typeof tempDir>;
let layout: string;
const digests: Record<string, string> = {};

test.before(async () => {
  registry = await startRegistry();
  work = tempDir("berth-images-");
  layout = join(work.path, "oci");
  const tree = busyboxTree(work.path);
  digests.app = buildImage(layout, "app", tree, { cmd: ["echo", "hi"], env: ["GREETING=hello", "PATH=/bin"], workdir: "/srv", user: "app", stopSignal: "SIGINT" });
  push(layout, "app", `${registry.host}/t/app:1`);
  push(layout, "app", `${registry.host}/t/docker-app:1`, { format: "v2s2" });
  digests.amd64 = buildImage(layout, "amd64", tree, { cmd: ["echo", "amd64"] });
  digests.arm64 = buildImage(layout, "arm64", tree, { cmd: ["echo", "arm64"], architecture: "arm64" });
  digests.multi = writeIndex(layout, "multi", { amd64: "linux/amd64", arm64: "linux/arm64" });
  push(layout, "multi", `${registry.host}/t/multi:1`, { all: true });
  // A layer of its own: the test tampers with it in the registry's storage.
  buildImage(layout, "bad", busyboxTree(work.path, { "srv/only-here": "bad\n" }, "bad-tree"), { cmd: ["echo", "bad"] });
  push(layout, "bad", `${registry.host}/t/bad:1`);
  buildImage(layout, "ports", tree, { cmd: ["echo", "ports"], exposed: ["80/tcp", "53/udp", "8080", "9/sctp"], volumes: ["/data"] });
  push(layout, "ports", `${registry.host}/t/ports:1`);
});

test.after(async () => {
  await registry?.stop();
  work?.remove();
});

test("a pulled image runs as its config says: Cmd, Env, WorkingDir and User, under the user's flags", () =>
  withDaemon(async (root) => {
    const ref = `${registry.host}/t/app:1`;
    const p = await berth(root, ["pull", ref]);
    assert.is(p.code, 0, p.stderr);
    assert.match(p.stdout, /Pull complete/);
    assert.match(p.stdout, new RegExp(`Status: Downloaded newer image for ${ref}`));
    assert.is(p.stdout.trim().split("\n").pop(), ref);
    const again = await berth(root, ["pull", "-q", ref]);
    assert.is(again.stdout, `${ref}\n`);
    assert.match((await berth(root, ["pull", ref])).stdout, /Image is up to date/);

    const hi = await berth(root, ["run", "--rm", ref]);
    assert.is(hi.code, 0, hi.stderr);
    assert.is(hi.stdout, "hi\n");
    const env = await berth(root, ["run", "--rm", ref, "sh", "-c", "echo $GREETING; pwd; id -u"]);
    assert.is(env.stdout, "hello\n/srv\n1000\n", env.stderr);
    const flags = await berth(root, ["run", "--rm", "-e", "GREETING=bye", "-w", "/", "-u", "0", ref, "sh", "-c", "echo $GREETING; pwd; id -u"]);
    assert.is(flags.stdout, "bye\n/\n0\n", flags.stderr);
    const entry = await berth(root, ["run", "--rm", "--entrypoint", "echo", ref, "from", "entrypoint"]);
    assert.is(entry.stdout, "from entrypoint\n", entry.stderr);

    const created = await berth(root, ["create", "--name", "c1", ref]);
    assert.is(created.code, 0, created.stderr);
    const [c1] = JSON.parse((await berth(root, ["inspect", "c1"])).stdout);
    assert.equal(c1.config.init.args, ["echo", "hi"]);
    assert.is(c1.config.stopSignal, "SIGINT", "the image's StopSignal");
    assert.is(c1.config.init.env.GREETING, "hello");
    assert.equal(c1.config.rootfs.resolved.manifest, digests.app);

    const history = await berth(root, ["history", "c1"]);
    assert.match(history.stdout, new RegExp(`created from image ${ref} \\(${digests.app}\\): echo hi`));

    const history2 = await berth(root, ["image", "history", ref]);
    assert.match(history2.stdout, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n[0-9a-f]{12}\s+/);
    assert.match(history2.stdout, /umoci insert/);

    const images = await berth(root, ["images"]);
    assert.match(images.stdout, /REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE/);
    assert.match(images.stdout, new RegExp(`${registry.host}/t/app\\s+1\\s+[0-9a-f]{12}`));

    // Used by c1: kept without -f.
    const refused = await berth(root, ["image", "rm", ref]);
    assert.is(refused.code, 125);
    assert.match(refused.stderr, /container c1 uses it/);
    assert.is((await berth(root, ["rm", "c1"])).code, 0);
    const rm = await berth(root, ["image", "rm", ref]);
    assert.is(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, new RegExp(`Untagged: ${ref}`));
    assert.match(rm.stdout, new RegExp(`Deleted: ${digests.app}`));
    assert.equal(fs.readdirSync(join(root, "images", "layers")), [], "no layer directory stays");
    assert.equal(fs.readdirSync(join(root, "images", "blobs", "sha256")), []);

    const events = await journalEvents(root);
    const pulled = events.filter((e) => e.type === "ImagePulled");
    assert.is(pulled.length, 1, "an up-to-date pull journals nothing");
    assert.equal(pulled[0]!.data, { reference: ref, digest: digests.app, config: (pulled[0]!.data as { config: string }).config, platform: "linux/amd64", size: (pulled[0]!.data as { size: number }).size });
    assert.is(pulled[0]!.actor?.uid, process.getuid!());
    assert.ok(events.some((e) => e.type === "ImageRemoved"));
    const listed = await berth(root, ["events", "--filter", "type=ImagePulled"]);
    assert.match(listed.stdout, /ImagePulled/);
  }));

test("a client cannot say which image digest a container ran, nor its image's volumes or healthcheck: the daemon's own", () =>
  withDaemon(async (_root, daemon) => {
    const ipc = await daemon.ipc();
    const zero = `sha256:${"0".repeat(64)}`;
    const state = await ipc.call<{ config: { rootfs: Record<string, unknown>; volumes?: unknown; healthcheck?: unknown } }>("create", { id: "forged", config: { rootfs: { image: "busybox", resolved: { reference: "x", manifest: zero, config: zero } }, init: { args: ["true"] }, volumes: ["/x"], healthcheck: { test: ["CMD", "true"] } } });
    assert.equal(state.config.rootfs, { image: "busybox" });
    assert.is(state.config.volumes, undefined, "volumes are the image's, recorded by the daemon");
    assert.is(state.config.healthcheck, undefined);
    ipc.close();
  }));

test("a Docker v2 schema 2 manifest pulls and runs the same; tag, filter and prune -a work on it", () =>
  withDaemon(async (root) => {
    const ref = `${registry.host}/t/docker-app:1`;
    assert.is((await berth(root, ["pull", "-q", ref])).code, 0);
    const r = await berth(root, ["run", "--rm", ref]);
    assert.is(r.stdout, "hi\n", r.stderr);

    assert.is((await berth(root, ["image", "tag", ref, "local/app:stable"])).code, 0);
    const both = await berth(root, ["images", "--format", "json"]);
    assert.equal(JSON.parse(both.stdout).map((x: { reference: string }) => x.reference), [ref, "docker.io/local/app:stable"]);
    const filtered = await berth(root, ["images", "--filter", "reference=local/*"]);
    assert.match(filtered.stdout, /local\/app\s+stable/);
    assert.not.match(filtered.stdout, /docker-app/);
    assert.is((await berth(root, ["images", "-q", "--filter", "dangling=true"])).stdout, "");

    const untag = await berth(root, ["image", "rm", ref]);
    assert.is(untag.stdout, `Untagged: ${ref}\n`, "another name keeps the blobs");
    assert.is((await berth(root, ["run", "--rm", "local/app:stable"])).stdout, "hi\n");
    const prune = await berth(root, ["image", "prune", "-a", "-f"]);
    assert.is(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, /untagged: docker.io\/local\/app:stable/);
    assert.equal(fs.readdirSync(join(root, "images", "blobs", "sha256")), []);
    const types = (await journalEvents(root)).map((e) => e.type).filter((t) => t.startsWith("Image"));
    assert.equal(types, ["ImagePulled", "ImageTagged", "ImageRemoved", "ImageRemoved"]);
  }));

test("an index gives the host's platform; --platform linux/arm64 stores arm64, which run refuses as unsupported", () =>
  withDaemon(async (root) => {
    const ref = `${registry.host}/t/multi:1`;
    const p = await berth(root, ["pull", ref]);
    assert.is(p.code, 0, p.stderr);
    assert.match(p.stdout, new RegExp(`Digest: ${digests.multi}`));
    const [rec] = JSON.parse((await berth(root, ["images", "--format", "json"])).stdout);
    assert.is(rec.manifest, digests.amd64);
    assert.is(rec.index, digests.multi);
    assert.is((await berth(root, ["run", "--rm", ref])).stdout, "amd64\n");

    const arm = await berth(root, ["pull", "--platform", "linux/arm64", ref]);
    assert.is(arm.code, 0, arm.stderr);
    const [armRec] = JSON.parse((await berth(root, ["images", "--format", "json"])).stdout);
    assert.is(armRec.manifest, digests.arm64);
    assert.is(armRec.platform, "linux/arm64");
    const [inspected] = JSON.parse((await berth(root, ["image", "inspect", ref])).stdout);
    assert.is(inspected.Descriptor.digest, digests.arm64);
    assert.is(inspected.Architecture, "arm64");
    assert.equal(inspected.RepoDigests, [`${registry.host}/t/multi@${digests.multi}`]);
    assert.equal(inspected.Config.Cmd, ["echo", "arm64"]);
    const run = await berth(root, ["run", "--rm", ref]);
    assert.is(run.code, 125);
    assert.match(run.stderr, /unsupported: .*linux\/arm64/);

    const none = await berth(root, ["pull", "--platform", "linux/s390x", ref]);
    assert.is(none.code, 125);
    assert.match(none.stderr, /notFound: no manifest for platform linux\/s390x in the index: it offers linux\/amd64, linux\/arm64/);
  }));

test("the image's ExposedPorts join --expose in the container's config.exposed, which -P publishes", () =>
  withDaemon(async (root) => {
    const ref = `${registry.host}/t/ports:1`;
    assert.is((await berth(root, ["pull", "-q", ref])).code, 0);
    const created = await berth(root, ["create", "--name", "p1", "--expose", "9000", "--expose", "80", ref]);
    assert.is(created.code, 0, created.stderr);
    const [p1] = JSON.parse((await berth(root, ["inspect", "p1"])).stdout);
    // A bare "8080" is tcp, as docker reads it; sctp, which berth cannot publish, is passed over.
    assert.equal([...p1.config.exposed].sort(), ["53/udp", "80/tcp", "8080/tcp", "9000/tcp"]);
    const [image] = JSON.parse((await berth(root, ["image", "inspect", ref])).stdout);
    assert.equal(Object.keys(image.Config.Volumes), ["/data"]);
    assert.equal(p1.config.volumes, ["/data"], "the image's Volumes are recorded in the config (not mounted: berth has no volumes)");
    const createdEvent = (await journalEvents(root)).find((e) => e.type === "ContainerCreated" && (e.data as { id: string }).id === "p1")!;
    assert.is(createdEvent.schemaVersion, 2, "ContainerCreated v2 carries volumes");
    const plain = await berth(root, ["create", "--name", "p2", `${registry.host}/t/app:1`]);
    assert.is(plain.code, 0, plain.stderr);
    const [p2] = JSON.parse((await berth(root, ["inspect", "p2"])).stdout);
    assert.is(p2.config.exposed, undefined, "an image without ExposedPorts adds none");
  }));

test("a tampered blob is refused as invalidArgument: no blob, no image and no event appear", () =>
  withDaemon(async (root) => {
    const [layer] = layersOf(layout, "bad");
    const file = registry.blobFile(layer!);
    const bytes = fs.readFileSync(file);
    const i = bytes.length >> 1;
    bytes[i] = bytes[i]! ^ 0xff;
    fs.writeFileSync(file, bytes);
    const r = await berth(root, ["pull", `${registry.host}/t/bad:1`]);
    assert.is(r.code, 125);
    assert.match(r.stderr, new RegExp(`invalidArgument: blob ${layer} failed verification`));
    const blobs = join(root, "images", "blobs", "sha256");
    assert.not.ok(fs.existsSync(join(blobs, layer!.slice(7))), "the bad layer is not in the store");
    assert.equal(fs.existsSync(join(root, "images", "ingest")) ? fs.readdirSync(join(root, "images", "ingest")) : [], []);
    assert.not.ok(fs.existsSync(join(root, "images", "refs.json")));
    assert.not.ok(fs.existsSync(join(root, "images", "layers")));
    assert.not.ok((await journalEvents(root)).some((e) => e.type.startsWith("Image")));
  }));

test("bad references, unknown images and a registry that is down give clear typed errors", () =>
  withDaemon(async (root) => {
    for (const bad of ["Alpine", "a/../b", "a:-x", "a@sha256:123"]) {
      const r = await berth(root, ["pull", bad]);
      assert.is(r.code, 125, bad);
      assert.match(r.stderr, /invalidArgument: invalid reference format/, bad);
    }
    const missing = await berth(root, ["pull", `${registry.host}/t/nope:1`]);
    assert.match(missing.stderr, /notFound: .*manifest unknown/);
    const down = await berth(root, ["pull", "127.0.0.1:9/t/app:1"]);
    assert.match(down.stderr, /notFound: cannot reach registry 127\.0\.0\.1:9/);
    const never = await berth(root, ["run", "--rm", "--pull", "never", `${registry.host}/t/app:1`]);
    assert.match(never.stderr, /notFound: image .* not found: pull it with `berth pull/);
  }));

test("run pulls a missing image first (--pull missing, the default), its progress on stderr", () =>
  withDaemon(async (root) => {
    const ref = `${registry.host}/t/app:1`;
    const r = await berth(root, ["run", "--rm", ref]);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, "hi\n");
    assert.match(r.stderr, new RegExp(`^Unable to find image '${ref}' locally\n`));
    assert.match(r.stderr, /Status: Downloaded newer image/);
    const again = await berth(root, ["run", "--rm", ref]);
    assert.is(again.stderr, "", "present: no pull");
    const always = await berth(root, ["create", "--pull", "always", ref]);
    assert.is(always.code, 0, always.stderr);
    assert.match(always.stderr, /Status: Image is up to date/);
  }));

test.run();
