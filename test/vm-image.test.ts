import { createHash } from "node:crypto";
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { importImage } from "../src/vm/image-import.js";
import { imageRootfs } from "../src/vm/paths.js";
import { readLogs } from "../src/vm/logs.js";
import { boot, cleanup, processLog, tempRoot } from "./helpers/vm-sandbox.js";
import { dockerSave, tar, type TarInput } from "./helpers/vm-tar.js";

const applets = ["sh", "cat", "ls", "test", "echo"];

function baseLayer(): Buffer {
  const entries: TarInput[] = [
    { name: "bin/", type: "dir" },
    { name: "bin/busybox", data: fs.readFileSync("/bin/busybox"), mode: 0o755 },
    ...applets.map((a) => ({ name: `bin/${a}`, type: "symlink" as const, linkname: "/bin/busybox" })),
    { name: "etc/", type: "dir" },
    { name: "etc/passwd", data: "root:x:0:0:root:/root:/bin/sh\n" },
    { name: "etc/gone.txt", data: "you should not see me\n" },
    { name: "data/", type: "dir" },
    { name: "data/keep.txt", data: "from layer one\n" },
    { name: "data/old/", type: "dir" },
    { name: "data/old/a.txt", data: "a\n" },
    { name: "proc/", type: "dir" }, { name: "dev/", type: "dir" }, { name: "sys/", type: "dir" }, { name: "tmp/", type: "dir", mode: 0o1777 },
  ];
  return tar(entries);
}

test("a docker-save tarball with two layers and whiteouts gives the merged tree", async () => {
  const root = tempRoot();
  try {
    const top = tar([
      { name: "etc/.wh.gone.txt" },
      { name: "data/new.txt", data: "from layer two\n" },
      { name: "data/old/.wh..wh..opq" },
      { name: "data/old/b.txt", data: "b\n" },
    ]);
    const file = join(root, "img.tar");
    fs.writeFileSync(file, dockerSave([baseLayer(), top]));
    const result = await importImage(root, file, "layered");
    assert.is(result.layers, 2);
    const rootfs = imageRootfs(root, "layered");
    assert.not.ok(fs.existsSync(join(rootfs, "etc/gone.txt")), "whiteout hides the file");
    assert.equal(fs.readdirSync(join(rootfs, "data/old")), ["b.txt"], "opaque whiteout hides the lower directory's content");

    const c = await boot(root, "merged", {
      rootfs: { image: "layered" },
      init: { args: ["sh", "-c", "cat /data/keep.txt /data/new.txt; test -e /etc/gone.txt || echo gone-is-hidden; ls /data/old"] },
    });
    await c.client.startProcess("merged");
    assert.is((await c.client.wait("merged")).exitCode, 0);
    const lines = readLogs(processLog(root, "merged")).map((e) => e.line);
    assert.equal(lines, ["from layer one", "from layer two", "gone-is-hidden", "b.txt"]);
    c.client.close();
  } finally {
    await cleanup(root, ["merged"]);
  }
});

test("entries that escape the rootfs are rejected with invalidArgument and nothing is written outside", async () => {
  const root = tempRoot();
  const outside = fs.mkdtempSync("/tmp/bvm-outside-");
  try {
    const cases: [string, Buffer][] = [
      ["dotdot", tar([{ name: "../../etc/x", data: "pwned" }, { name: `../..${outside}/dotdot`, data: "pwned" }])],
      ["hardlink-out", tar([{ name: "h", type: "hardlink", linkname: "../../../etc/passwd" }])],
    ];
    for (const [name, layer] of cases) {
      const file = join(root, `${name}.tar`);
      fs.writeFileSync(file, dockerSave([layer]));
      try {
        await importImage(root, file, name);
        assert.unreachable(`${name} should be rejected`);
      } catch (err) {
        assert.is((err as { code: string }).code, "invalidArgument", `${name}: ${(err as Error).message}`);
      }
      assert.not.ok(fs.existsSync(imageRootfs(root, name)), `${name}: no image left behind`);
    }
    assert.equal(fs.readdirSync(outside), [], "nothing written outside the target");
    assert.not.ok(fs.existsSync("/etc/x"));
    assert.equal(fs.readdirSync(join(root, "images")).filter((n) => n.startsWith(".import-")), [], "temp dirs removed");
  } finally {
    fs.rmSync(outside, { recursive: true, force: true });
    await cleanup(root, []);
  }
});

test("symlinks on an entry's path resolve inside the rootfs, as docker's: what they name outside is never written", async () => {
  const root = tempRoot();
  const outside = fs.mkdtempSync("/tmp/bvm-outside-");
  try {
    const cases: [string, Buffer, string][] = [
      ["abs-symlink", tar([{ name: "evil", type: "symlink", linkname: outside }, { name: "evil/x", data: "inside" }]), `${outside}/x`],
      ["rel-symlink", tar([{ name: "up", type: "symlink", linkname: "../../../../../../.." }, { name: `up${outside}/y`, data: "inside" }]), `${outside}/y`],
    ];
    for (const [name, layer, landed] of cases) {
      const file = join(root, `${name}.tar`);
      fs.writeFileSync(file, dockerSave([layer]));
      await importImage(root, file, name);
      assert.is(fs.readFileSync(join(imageRootfs(root, name), landed), "utf8"), "inside", `${name}: resolved inside the rootfs`);
    }
    assert.equal(fs.readdirSync(outside), [], "nothing written outside the target");
  } finally {
    fs.rmSync(outside, { recursive: true, force: true });
    await cleanup(root, []);
  }
});

/** An OCI-layout tarball as `tar -C DIR .` writes one: every name starts with "./". */
function ociLayoutTar(layer: Buffer): Buffer {
  const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
  const config = "{}";
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${sha(config)}`, size: 2 }, layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${sha(layer)}`, size: layer.length }] });
  const index = JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${sha(manifest)}`, size: manifest.length }] });
  return tar([
    { name: "./oci-layout", data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: "./index.json", data: index },
    { name: "./blobs/sha256/" + sha(config), data: config },
    { name: "./blobs/sha256/" + sha(manifest), data: manifest },
    // The layer's name is its digest; its bytes may be tampered with below.
    { name: "./blobs/sha256/" + sha(layer), data: layer },
  ]);
}

test("image import reads an OCI layout through load's archive reader: names normalised, every blob verified by its digest", async () => {
  const root = tempRoot();
  try {
    const layer = baseLayer();
    const file = join(root, "oci.tar");
    fs.writeFileSync(file, ociLayoutTar(layer));
    const ok = await importImage(root, file, "oci");
    assert.is(ok.layers, 1);
    assert.is(fs.readFileSync(join(imageRootfs(root, "oci"), "data/keep.txt"), "utf8"), "from layer one\n");

    const archive = ociLayoutTar(layer);
    const at = archive.indexOf("from layer one");
    archive[at] = "F".charCodeAt(0); // same size, another digest
    fs.writeFileSync(file, archive);
    const err = await importImage(root, file, "tampered").catch((e) => e);
    assert.is(err.code, "invalidArgument");
    assert.match(err.message, /blobs\/sha256\/[a-f0-9]{64} in the archive failed verification/);
    assert.not.ok(fs.existsSync(imageRootfs(root, "tampered")), "nothing is imported");
  } finally {
    await cleanup(root, []);
  }
});

test.run();
