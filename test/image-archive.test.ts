// save and load: berth's archive round-trips to the same digests; archives skopeo writes (an
// OCI archive, a classic docker-archive) load and run; a tampered archive stores nothing.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, withDaemon } from "./helpers/cli-env.js";
import { journalEvents } from "./helpers/daemon.js";
import { buildImage, busyboxTree, push, startRegistry, type Registry } from "./helpers/registry.js";
import { tempDir } from "./helpers/tmp.js";
import { bigArchive } from "./helpers/vm-tar.js";

let registry: Registry;
let work: ReturnType<typeof tempDir>;
let layout: string;
let ref: string;

test.before(async () => {
  registry = await startRegistry();
  work = tempDir("berth-archive-");
  layout = join(work.path, "oci");
  buildImage(layout, "app", busyboxTree(work.path), { cmd: ["echo", "hi"], env: ["GREETING=hello"] });
  ref = `${registry.host}/t/app:1`;
  push(layout, "app", ref);
});

test.after(async () => {
  await registry?.stop();
  work?.remove();
});

const records = async (root: string) => JSON.parse((await berth(root, ["images", "--format", "json"])).stdout) as { reference: string; manifest: string; config: string }[];

test("save then load gives back the same manifest and config digests, and the image runs", () =>
  withDaemon(async (root) => {
    assert.is((await berth(root, ["pull", "-q", ref])).code, 0);
    const [before] = await records(root);
    const file = join(work.path, "berth.tar");
    const save = await berth(root, ["save", "-o", file, ref]);
    assert.is(save.code, 0, save.stderr);
    assert.is((await berth(root, ["image", "rm", ref])).code, 0);
    assert.equal(await records(root), []);
    const load = await berth(root, ["load", "-i", file]);
    assert.is(load.code, 0, load.stderr);
    assert.is(load.stdout, `Loaded image: ${ref}\n`);
    const [after] = await records(root);
    assert.is(after!.manifest, before!.manifest);
    // From stdin, as docker's `load < FILE`; an empty stdin is a clear error.
    assert.is((await berth(root, ["image", "rm", ref])).code, 0);
    const piped = await berth(root, ["load"], { stdin: { file } });
    assert.is(piped.code, 0, piped.stderr);
    assert.is(piped.stdout, `Loaded image: ${ref}\n`);
    assert.is((await records(root))[0]!.manifest, before!.manifest);
    const empty = await berth(root, ["load"], { stdin: Buffer.alloc(0) });
    assert.is(empty.code, 125);
    assert.match(empty.stderr, /invalidArgument: requested load from stdin, but stdin is empty/);
    assert.is(after!.config, before!.config);
    assert.is((await berth(root, ["run", "--rm", ref])).stdout, "hi\n");
    const loaded = (await journalEvents(root)).filter((e) => e.type === "ImageLoaded");
    assert.is(loaded.length, 2, "-i, then stdin");
    assert.equal((loaded[0]!.data as { format: string }).format, "oci-archive");
    assert.is(loaded[0]!.actor?.uid, process.getuid!());

    // skopeo reads berth's archive as a docker-archive (its manifest.json) and as an OCI layout.
    const oci = join(work.path, "from-berth");
    execFileSync("skopeo", ["copy", "--quiet", `docker-archive:${file}`, `oci:${oci}:x`]);
    const docker = join(work.path, "skopeo-docker.tar");
    execFileSync("skopeo", ["copy", "--quiet", `oci:${oci}:x`, `docker-archive:${docker}:example.test/skopeo/app:2`]);
    assert.is((await berth(root, ["load", "-i", docker])).stdout, "Loaded image: example.test/skopeo/app:2\n");
    assert.is((await berth(root, ["run", "--rm", "example.test/skopeo/app:2", "sh", "-c", "echo $GREETING"])).stdout, "hello\n");
  }));

test("an OCI archive skopeo writes loads with its manifest's digest; a tampered one stores nothing", () =>
  withDaemon(async (root) => {
    const file = join(work.path, "skopeo-oci.tar");
    execFileSync("skopeo", ["copy", "--quiet", `oci:${layout}:app`, `oci-archive:${file}:example.test/oci/app:3`]);
    const load = await berth(root, ["load", "-i", file]);
    assert.is(load.code, 0, load.stderr);
    const [r] = await records(root);
    const index = JSON.parse(fs.readFileSync(join(layout, "index.json"), "utf8"));
    assert.is(r!.manifest, index.manifests.find((m: { annotations: Record<string, string> }) => m.annotations["org.opencontainers.image.ref.name"] === "app").digest);
    assert.is((await berth(root, ["run", "--rm", "example.test/oci/app:3"])).stdout, "hi\n");

    const fresh = join(root, "..", `${root.split("/").pop()}-tampered.tar`);
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf(Buffer.from("busybox")) + 2;
    bytes[at] = bytes[at]! ^ 0xff;
    fs.writeFileSync(fresh, bytes);
    try {
      assert.is((await berth(root, ["image", "rm", "example.test/oci/app:3"])).code, 0);
      const bad = await berth(root, ["load", "-i", fresh]);
      assert.is(bad.code, 125);
      assert.match(bad.stderr, /invalidArgument: .* failed verification|invalidArgument: not a tar archive/);
      assert.equal(await records(root), []);
      assert.is((await journalEvents(root)).filter((e) => e.type === "ImageLoaded").length, 1);
    } finally {
      fs.rmSync(fresh, { force: true });
    }
  }));

/** VmRSS or VmHWM (the peak so far) of a process, in bytes. */
const memoryOf = (pid: number, field: "VmRSS" | "VmHWM") => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;

test("load streams the archive: a 192 MiB layer raises the daemon's peak memory by far less than its size", () =>
  withDaemon(async (root, daemon) => {
    const size = 192 * 1024 * 1024;
    const file = join(work.path, "big.tar");
    bigArchive(file, size);
    try {
      const before = memoryOf(daemon.child.pid!, "VmRSS");
      const load = await berth(root, ["load", "-i", file]);
      assert.is(load.code, 0, load.stderr);
      assert.is(load.stdout, "Loaded image: example.test/big:1\n");
      const growth = memoryOf(daemon.child.pid!, "VmHWM") - before;
      // Read whole, as load did before, the archive alone would have grown it by 192 MiB.
      assert.ok(growth < size / 2, `the daemon's peak grew by ${(growth / 1048576).toFixed(1)} MiB`);
      const run = await berth(root, ["run", "--rm", "example.test/big:1", "sh", "-c", "wc -c < /big.bin"]);
      assert.is(run.stdout.trim(), String(size));
    } finally {
      fs.rmSync(file, { force: true });
    }
  }));

test.run();
