// `berth cp` through the real binary and daemon (runc under conmon): docker's directory and
// trailing-slash rules, byte-identical round trips (modes, symlinks, a 20 MB file), running and
// stopped containers, and container paths that resolve inside the container's root only.
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, withDaemon } from "./helpers/cli-env.js";

const ok = async (root: string, args: string[], code = 0) => {
  const r = await berth(root, args);
  assert.is(r.code, code, `berth ${args.join(" ")}: ${r.stderr}`);
  return r;
};

/** Every entry under dir: its relative path, type, mode, and content hash or link target. */
function listing(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).sort().map((rel) => {
    const p = join(dir, rel);
    const s = fs.lstatSync(p);
    const what = s.isSymbolicLink() ? `-> ${fs.readlinkSync(p)}` : s.isDirectory() ? "dir" : createHash("sha256").update(fs.readFileSync(p)).digest("hex");
    return `${rel} ${(s.mode & 0o7777).toString(8)} ${what}`;
  });
}

test("cp round-trips a tree (modes, symlinks, 20 MB) in and out of a running container, with docker's directory rules", () =>
  withDaemon(async (root) => {
    const host = join(root, "host");
    const tree = join(host, "tree");
    fs.mkdirSync(join(tree, "sub"), { recursive: true });
    fs.writeFileSync(join(tree, "big.bin"), randomBytes(20 * 1024 * 1024));
    fs.writeFileSync(join(tree, "sub", "run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
    fs.writeFileSync(join(tree, "secret"), "s", { mode: 0o600 });
    fs.chmodSync(join(tree, "secret"), 0o600);
    fs.chmodSync(join(tree, "sub"), 0o750);
    fs.symlinkSync("sub/run.sh", join(tree, "link"));
    fs.symlinkSync("/etc/passwd", join(tree, "abs"));
    await ok(root, ["run", "-d", "--name", "c", "busybox", "sleep", "1000"]);

    await ok(root, ["cp", tree, "c:/srv"]); // /srv does not exist: the tree becomes /srv
    await ok(root, ["cp", tree, "c:/srv"]); // now it does: the tree goes into it, as /srv/tree
    const md5 = (await ok(root, ["exec", "c", "md5sum", "/srv/big.bin", "/srv/tree/big.bin"])).stdout.split("\n").map((l) => l.split(" ")[0]);
    assert.is(md5[0], createHash("md5").update(fs.readFileSync(join(tree, "big.bin"))).digest("hex"));
    assert.is(md5[1], md5[0]);
    assert.is((await ok(root, ["exec", "c", "/srv/link"])).stdout, "hi\n", "the symlink and the mode came through");

    const out = join(host, "out");
    fs.mkdirSync(out);
    await ok(root, ["cp", "c:/srv", out]); // an existing host directory: into it, as out/srv
    assert.equal(listing(join(out, "srv", "tree")), listing(tree));
    await ok(root, ["cp", "c:/srv/tree/.", join(host, "contents")]); // /. copies the contents
    assert.equal(listing(join(host, "contents")), listing(tree));
    await ok(root, ["cp", "c:/srv/tree/secret", join(out, "renamed")]);
    assert.is(fs.readFileSync(join(out, "renamed"), "utf8"), "s");
    assert.is(fs.lstatSync(join(out, "renamed")).mode & 0o777, 0o600);

    const notDir = await berth(root, ["cp", "c:/srv/tree/secret/", out]);
    assert.is(notDir.code, 125);
    assert.match(notDir.stderr, /^berth: invalidArgument: not a directory: \/srv\/tree\/secret\//);
    const noDir = await berth(root, ["cp", join(tree, "secret"), "c:/nowhere/"]);
    assert.is(noDir.code, 125);
    assert.match(noDir.stderr, /^berth: notFound: destination directory \/nowhere does not exist|does not exist/);
    const missing = await berth(root, ["cp", "c:/no/such", out]);
    assert.is(missing.code, 125);
    assert.match(missing.stderr, /^berth: notFound: could not find the file \/no\/such in container c/);
    const both = await berth(root, ["cp", tree, out]);
    assert.is(both.code, 125);
    assert.is((await berth(root, ["cp", "ghost:/x", out])).code, 125);
    await ok(root, ["kill", "c"]);
  }));

test("container paths resolve inside the container's root: symlinks to / and ../../../../etc are the container's, in and out, running and stopped", () =>
  withDaemon(async (root) => {
    const host = join(root, "host");
    fs.mkdirSync(host);
    await ok(root, ["run", "-d", "--name", "c", "busybox", "sh", "-c", "mkdir -p /etc; echo container-passwd > /etc/passwd; ln -s / /escape; ln -s ../../../../etc /e2; sleep 1000"]);
    await ok(root, ["exec", "c", "test", "-L", "/e2"]); // the links exist before copying through them
    await ok(root, ["cp", "c:/escape/etc/passwd", join(host, "p1")]);
    await ok(root, ["cp", "c:/e2/passwd", join(host, "p2")]);
    assert.is(fs.readFileSync(join(host, "p1"), "utf8"), "container-passwd\n");
    assert.is(fs.readFileSync(join(host, "p2"), "utf8"), "container-passwd\n");
    await ok(root, ["cp", "c:/e2", join(host, "link")]); // the last component is copied as a link
    assert.is(fs.readlinkSync(join(host, "link")), "../../../../etc");

    const name = `berth-cp-${process.pid}-${Date.now()}`;
    fs.writeFileSync(join(host, name), "into the container\n");
    await ok(root, ["cp", join(host, name), `c:/e2/${name}`]);
    await ok(root, ["cp", join(host, name), "c:/escape/etc/"]);
    assert.not.ok(fs.existsSync(join("/etc", name)), "never the host's /etc");
    assert.is((await ok(root, ["exec", "c", "cat", `/etc/${name}`])).stdout, "into the container\n");

    // Stopped: the container's own layer, mounted for the copy.
    await ok(root, ["kill", "c"]);
    await ok(root, ["wait", "c"], 137);
    await ok(root, ["cp", "c:/e2/passwd", join(host, "p3")]);
    assert.is(fs.readFileSync(join(host, "p3"), "utf8"), "container-passwd\n");
    fs.writeFileSync(join(host, "later"), "while stopped\n");
    await ok(root, ["cp", join(host, "later"), "c:/escape/etc/"]);
    assert.not.ok(fs.existsSync("/etc/later") && fs.readFileSync("/etc/later", "utf8") === "while stopped\n", "never the host's /etc");
    await ok(root, ["start", "c"]);
    assert.is((await ok(root, ["exec", "c", "cat", "/etc/later"])).stdout, "while stopped\n");
    await ok(root, ["kill", "c"]);
  }));

test.run();
