// Container root filesystems (src/vm/rootfs.ts): an overlay over the image per container, so a
// container's writes and deletions never reach the image or another container, kept across
// stop/start, unmounted at teardown; and a private copy where overlayfs cannot be used.
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mountsUnder } from "../src/vm/hostcalls.js";
import { containerPaths, imageRootfs } from "../src/vm/paths.js";
import { boot, cleanup, execOutput, pidAlive, tempRoot, waitFor } from "./helpers/vm-sandbox.js";

const sleeper = { init: { args: ["sleep", "100"] } };

test("each container writes into its own overlay; the image and its neighbours never see it; kept across a restart", async () => {
  const root = tempRoot();
  try {
    const a = await boot(root, "a", sleeper);
    await a.client.startProcess("a");
    const paths = containerPaths(root, "a");
    assert.equal(mountsUnder(paths.rootfs), [paths.rootfs], "the rootfs is a mount of its own");
    const write = await execOutput(a, "w", ["sh", "-c", "echo mine > /etc/mine && rm /bin/ls && echo done"]);
    assert.is(write.exitCode, 0);
    assert.equal(write.stdout, ["done"]);
    const image = imageRootfs(root, "busybox");
    assert.not.ok(fs.existsSync(join(image, "etc", "mine")), "the image has no /etc/mine");
    assert.ok(fs.lstatSync(join(image, "bin", "ls")).isSymbolicLink(), "the image still has /bin/ls");
    assert.ok(fs.existsSync(join(paths.overlay, "upper", "etc", "mine")), "the write is in the container's upper layer");

    const b = await boot(root, "b", sleeper);
    await b.client.startProcess("b");
    const seen = await execOutput(b, "r", ["sh", "-c", "cat /etc/mine; ls / >/dev/null && echo ls-works"]);
    assert.equal(seen.stdout, ["ls-works"], "b sees neither a's file nor a's deletion");
    b.client.close();

    // Stop a: its sandbox is torn down, and its conmon exits with init.
    await a.client.shutdown();
    await a.client.wait("a");
    a.client.close();
    await waitFor("a's conmon to exit", () => !pidAlive(a.endpoint.pid));
    assert.equal(mountsUnder(paths.dir), [], "teardown unmounted a's rootfs");

    // A new service for the same container (a restart) mounts the same upper layer again.
    const again = await boot(root, "a", sleeper);
    await again.client.startProcess("a");
    const r = await execOutput(again, "r2", ["sh", "-c", "cat /etc/mine; ls /bin/ls || echo gone"]);
    assert.equal(r.stdout, ["mine", "gone"]);
    again.client.close();
  } finally {
    await cleanup(root, ["a", "b"]);
  }
});

test("where overlayfs cannot take the path, the container gets a private copy of the image", async () => {
  // overlayfs options cannot carry ':' in a path, so this root forces the fallback.
  const root = fs.mkdtempSync(join(os.tmpdir(), "bvm:"));
  try {
    const c = await boot(root, "copy", sleeper);
    await c.client.startProcess("copy");
    const paths = containerPaths(root, "copy");
    assert.equal(mountsUnder(paths.dir), [], "no overlay mount");
    assert.ok(fs.existsSync(join(paths.rootfs, ".berth-ready")), "a private copy");
    const r = await execOutput(c, "w", ["sh", "-c", "echo x > /etc/copied && cat /etc/copied"]);
    assert.equal(r.stdout, ["x"]);
    assert.not.ok(fs.existsSync(join(imageRootfs(root, "busybox"), "etc", "copied")));
    c.client.close();
  } finally {
    await cleanup(root, ["copy"]);
  }
});

test.run();
