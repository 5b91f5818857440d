// The streaming layer applier (src/vm/layer.ts): whiteouts hide only what lower layers put
// there, long names and big files stream through from a gzip file, and bad layers (truncated,
// not gzip, escaping the tree through "..", whiteouts or links) are invalidArgument.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyLayer } from "../src/vm/layer.js";
import { withTempDir } from "./helpers/tmp.js";
import { tar } from "./helpers/vm-tar.js";

test("a whiteout hides the lower layer's file but not one its own layer adds; an opaque dir keeps its own layer's children", () =>
  withTempDir(async (dir) => {
    const t = join(dir, "t");
    fs.mkdirSync(t);
    await applyLayer(t, tar([{ name: "a/", type: "dir" }, { name: "a/old", data: "1" }, { name: "b/", type: "dir" }, { name: "b/lower", data: "1" }, { name: "gone", data: "1" }]));
    await applyLayer(t, gzipSync(tar([
      { name: "gone", data: "re-added by this layer" },
      { name: ".wh.gone" },
      { name: "b/.wh..wh..opq" },
      { name: "a/new", data: "2" },
      { name: "a/.wh..wh..opq" },
    ])));
    assert.is(fs.readFileSync(join(t, "gone"), "utf8"), "re-added by this layer");
    assert.equal(fs.readdirSync(join(t, "a")), ["new"]);
    assert.equal(fs.readdirSync(join(t, "b")), []);
  }));

test("files keep their modes whole, whatever the umask takes from a new file: setuid, group- and world-writable, owner-only", () =>
  withTempDir(async (dir) => {
    const t = join(dir, "t");
    fs.mkdirSync(t);
    const modes = { plain: 0o644, tool: 0o755, suid: 0o4755, shared: 0o666, sticky: 0o1777, secret: 0o600 };
    await applyLayer(t, tar(Object.entries(modes).map(([name, mode]) => ({ name, data: "x", mode }))));
    for (const [name, mode] of Object.entries(modes)) assert.is((fs.statSync(join(t, name)).mode & 0o7777).toString(8), mode.toString(8), name);
  }));

test("a gzip layer from GNU tar streams from its file: long names and a big file arrive whole", () =>
  withTempDir(async (dir) => {
    const src = join(dir, "src");
    const long = `${"d".repeat(80)}/${"e".repeat(80)}/${"f".repeat(60)}.txt`;
    fs.mkdirSync(join(src, long, ".."), { recursive: true });
    fs.writeFileSync(join(src, long), "deep\n");
    const big = randomBytes(3 * 1024 * 1024 + 17);
    fs.writeFileSync(join(src, "big.bin"), big);
    fs.symlinkSync("big.bin", join(src, "link"));
    const layer = join(dir, "layer.tgz");
    execFileSync("tar", ["-czf", layer, "-C", src, "--format=pax", "."]);
    const t = join(dir, "t");
    fs.mkdirSync(t);
    await applyLayer(t, layer);
    assert.is(fs.readFileSync(join(t, long), "utf8"), "deep\n");
    assert.ok(fs.readFileSync(join(t, "big.bin")).equals(big));
    assert.is(fs.readlinkSync(join(t, "link")), "big.bin");
  }));

test("a layer that ends right after its last file's bytes (umoci's: no padding, no end blocks) applies whole", () =>
  withTempDir(async (dir) => {
    const t = join(dir, "t");
    fs.mkdirSync(t);
    const whole = tar([{ name: "a", data: "1" }, { name: "last", data: "y".repeat(700) }]);
    await applyLayer(t, whole.subarray(0, 512 * 3 + 700));
    assert.is(fs.readFileSync(join(t, "last"), "utf8"), "y".repeat(700));
  }));

test("truncated, not-gzip and escaping layers are invalidArgument, and nothing lands outside the tree", () =>
  withTempDir(async (dir) => {
    const outside = join(dir, "outside");
    fs.mkdirSync(outside);
    const whole = tar([{ name: "f", data: "x".repeat(2000) }]);
    const cases: [string, Buffer, RegExp][] = [
      ["truncated", whole.subarray(0, 1024), /truncated/],
      ["bad gzip", Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(100)]), /not valid gzip/],
      ["whiteout of ..", tar([{ name: ".wh.." }]), /invalid whiteout|escape/],
      ["whiteout through ..", tar([{ name: "../.wh.outside" }]), /escape/],
      ["dotdot", tar([{ name: "../outside/x", data: "pwned" }]), /escape/],
      ["a symlink loop", tar([{ name: "a", type: "symlink", linkname: "b" }, { name: "b", type: "symlink", linkname: "a" }, { name: "a/x", data: "x" }]), /more than 40 symlinks/],
      ["hardlink to a symlink outside", tar([{ name: "s", type: "symlink", linkname: `${outside}/secret` }, { name: "h", type: "hardlink", linkname: "s" }]), /regular file/],
      ["hardlink out", tar([{ name: "h", type: "hardlink", linkname: "../outside/secret" }]), /escape/],
    ];
    fs.writeFileSync(join(outside, "secret"), "keep");
    for (const [name, layer, why] of cases) {
      const t = join(dir, `t-${name.replace(/\W/g, "-")}`);
      fs.mkdirSync(t);
      const err = await applyLayer(t, layer).then(() => undefined, (e) => e);
      assert.ok(err, `${name} is refused`);
      assert.is(err.code, "invalidArgument", `${name}: ${err.message}`);
      assert.match(err.message, why, name);
    }
    assert.equal(fs.readdirSync(outside), ["secret"]);
    assert.is(fs.readFileSync(join(outside, "secret"), "utf8"), "keep");
  }));

test("merged /usr: a lower layer's /bin → usr/bin takes an upper layer's bin/x into usr/bin, and links to outside stay inside", () =>
  withTempDir(async (dir) => {
    const t = join(dir, "t");
    const outside = join(dir, "outside");
    fs.mkdirSync(t);
    fs.mkdirSync(outside);
    await applyLayer(t, tar([{ name: "usr/", type: "dir" }, { name: "usr/bin/", type: "dir" }, { name: "bin", type: "symlink", linkname: "usr/bin" }, { name: "abs", type: "symlink", linkname: outside }]));
    await applyLayer(t, tar([{ name: "bin/x", data: "x" }, { name: "abs/y", data: "y" }, { name: "abs/.wh..wh..opq" }, { name: "abs/z", data: "z" }]));
    assert.is(fs.readFileSync(join(t, "usr/bin/x"), "utf8"), "x");
    assert.is(fs.readlinkSync(join(t, "bin")), "usr/bin", "the link itself stays");
    assert.equal(fs.readdirSync(join(t, outside)).sort(), ["y", "z"], "an absolute link resolves inside the tree");
    assert.equal(fs.readdirSync(outside), [], "nothing written outside");
  }));

test.run();
