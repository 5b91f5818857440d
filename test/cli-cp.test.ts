// `berth cp` through the real binary and daemon (runc under conmon): docker's directory and
// trailing-slash rules, byte-identical round trips (modes, symlinks, a 20 MB file), running and
// stopped containers, and container paths that resolve inside the container's root only; -a
// (owners), -L (follow SRC) and `-` (a tar stream on stdin or stdout, read and written by GNU tar).
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, bin, withDaemon } from "./helpers/cli-env.js";
import { tar } from "./helpers/vm-tar.js";

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

test("cp -a keeps uid, gid and setuid bits both ways, else the copy is root's; -L follows SRC when it is a symlink, in and out", () =>
  withDaemon(async (root) => {
    const host = join(root, "host");
    fs.mkdirSync(join(host, "own"), { recursive: true });
    // The container has no CAP_CHOWN (runc's default capabilities), so the owners come from the host.
    fs.writeFileSync(join(host, "own", "f"), "f\n");
    fs.chownSync(join(host, "own", "f"), 1234, 5678);
    fs.chmodSync(join(host, "own", "f"), 0o4755);
    fs.chownSync(join(host, "own"), 4321, 8765);
    fs.chmodSync(join(host, "own"), 0o2755);
    await ok(root, ["run", "-d", "--name", "c", "busybox", "sh", "-c", "mkdir -p /target; echo t > /target/file; ln -s file /target/flink; ln -s /target /lnk; sleep 1000"]);
    await ok(root, ["exec", "c", "test", "-L", "/lnk"]);
    const owner = (p: string) => {
      const s = fs.lstatSync(p);
      return `${s.uid}:${s.gid} ${(s.mode & 0o7777).toString(8)}`;
    };
    const stat = async (...p: string[]) => (await ok(root, ["exec", "c", "stat", "-c", "%u:%g %a", ...p])).stdout.trim().split("\n");
    await ok(root, ["cp", join(host, "own"), "c:/plain"]);
    assert.equal(await stat("/plain", "/plain/f"), ["0:0 2755", "0:0 4755"], "root's in the container, as docker's, with the modes kept");
    await ok(root, ["cp", "--archive", join(host, "own"), "c:/kept"]);
    assert.equal(await stat("/kept", "/kept/f"), ["4321:8765 2755", "1234:5678 4755"], "-a: the source's owners, and the setuid bit survives the chown");

    await ok(root, ["cp", "c:/kept", join(host, "plain")]);
    assert.is(owner(join(host, "plain", "f")), `${process.getuid!()}:${process.getgid!()} 4755`, "the copier's on the host, as docker's");
    await ok(root, ["cp", "-a", "c:/kept", join(host, "kept")]);
    assert.is(owner(join(host, "kept")), "4321:8765 2755");
    assert.is(owner(join(host, "kept", "f")), "1234:5678 4755");

    await ok(root, ["cp", "c:/lnk", join(host, "asLink")]);
    assert.is(fs.readlinkSync(join(host, "asLink")), "/target", "without -L the link itself");
    await ok(root, ["cp", "-L", "c:/lnk", join(host, "followed")]);
    assert.ok(fs.lstatSync(join(host, "followed")).isDirectory(), "-L: the target, under the link's name");
    assert.is(fs.readFileSync(join(host, "followed", "file"), "utf8"), "t\n");
    assert.is(fs.readlinkSync(join(host, "followed", "flink")), "file", "links inside stay links");
    fs.mkdirSync(join(host, "hdir"));
    fs.writeFileSync(join(host, "hdir", "x"), "x\n");
    fs.symlinkSync(join(host, "hdir"), join(host, "hlink"));
    await ok(root, ["cp", join(host, "hlink"), "c:/in-link"]);
    assert.is((await ok(root, ["exec", "c", "readlink", "/in-link"])).stdout.trim(), join(host, "hdir"));
    await ok(root, ["cp", "-L", join(host, "hlink"), "c:/in-dir"]);
    assert.is((await ok(root, ["exec", "c", "cat", "/in-dir/x"])).stdout, "x\n");
    const dangling = await berth(root, ["cp", "-L", "c:/target/nothing-here", host]);
    assert.is(dangling.code, 125);
    await ok(root, ["kill", "c"]);
  }));

test("cp with -: a tar stream of a container path on stdout and a tar stream on stdin into a container directory, as GNU tar reads and writes them; entries stay inside the container", () =>
  withDaemon(async (root) => {
    const host = join(root, "host");
    const tree = join(host, "tree");
    fs.mkdirSync(join(tree, "sub", "deeper"), { recursive: true });
    fs.writeFileSync(join(tree, "big.bin"), randomBytes(3 * 1024 * 1024 + 17));
    fs.writeFileSync(join(tree, "sub", "run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
    fs.writeFileSync(join(tree, "sub", "deeper", `${"n".repeat(120)}.txt`), "a long name\n");
    fs.chmodSync(join(tree, "sub", "run.sh"), 0o755);
    fs.symlinkSync("sub/run.sh", join(tree, "link"));
    await ok(root, ["run", "-d", "--name", "c", "busybox", "sh", "-c", "mkdir -p /etc /srv; echo f > /plain-file; sleep 1000"]);

    const input = join(host, "in.tar");
    execFileSync("tar", ["-c", "-f", input, "-C", tree, "."]);
    const r = await berth(root, ["cp", "-", "c:/srv"], { stdin: { file: input } });
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, "");
    assert.is((await ok(root, ["exec", "c", "/srv/link"])).stdout, "hi\n");

    const out = join(host, "out.tar");
    const env = { ...process.env, BERTH_ROOT: root };
    execFileSync("sh", ["-c", `"${process.execPath}" "${bin}" cp c:/srv - > "${out}"`], { env });
    assert.equal(execFileSync("tar", ["-t", "-f", out], { encoding: "utf8" }).split("\n").filter(Boolean).sort().slice(0, 3), ["srv/", "srv/big.bin", "srv/link"]);
    fs.mkdirSync(join(host, "x"));
    execFileSync("tar", ["-x", "-f", out, "-C", join(host, "x")]);
    assert.equal(listing(join(host, "x", "srv")), listing(tree), "byte-identical, with modes and links");
    const contents = execFileSync("sh", ["-c", `"${process.execPath}" "${bin}" cp c:/srv/sub/. - | tar -t`], { env, encoding: "utf8" });
    assert.equal(contents.split("\n").filter(Boolean).sort().slice(0, 3), ["./", "./deeper/", `./deeper/${"n".repeat(120)}.txt`]);
    const file = execFileSync("sh", ["-c", `"${process.execPath}" "${bin}" cp c:/srv/sub/run.sh - | tar -tv`], { env, encoding: "utf8" });
    assert.match(file, /^-rwxr-xr-x 0\/0 +\d+ .* run\.sh\n$/);

    // An archive's own symlink to / and a climbing name: still the container's, or refused.
    const name = `berth-cp-tar-${process.pid}-${Date.now()}`;
    const escape = join(host, "escape.tar");
    fs.writeFileSync(escape, tar([{ name: "esc", type: "symlink", linkname: "/" }, { name: `esc/etc/${name}`, data: "inside\n" }]));
    await ok(root, ["exec", "c", "mkdir", "/drop"]);
    assert.is((await berth(root, ["cp", "-", "c:/drop"], { stdin: { file: escape } })).code, 0);
    assert.not.ok(fs.existsSync(join("/etc", name)), "never the host's /etc");
    assert.is((await ok(root, ["exec", "c", "cat", `/etc/${name}`])).stdout, "inside\n");
    const climbing = join(host, "climb.tar");
    fs.writeFileSync(climbing, tar([{ name: `../${name}`, data: "x" }]));
    const refused = await berth(root, ["cp", "-", "c:/drop"], { stdin: { file: climbing } });
    assert.is(refused.code, 125);
    assert.match(refused.stderr, /^berth: invalidArgument: tar entry "\.\.\/berth-cp-tar-[^"]+" climbs out of \/drop/);

    const notDir = await berth(root, ["cp", "-", "c:/plain-file"], { stdin: { file: input } });
    assert.is(notDir.code, 125);
    assert.match(notDir.stderr, /^berth: invalidArgument: destination "c:\/plain-file" must be a directory/);
    const missing = await berth(root, ["cp", "-", "c:/nowhere"], { stdin: { file: input } });
    assert.is(missing.code, 125);
    assert.match(missing.stderr, /^berth: notFound: could not find the file \/nowhere in container c/);
    const notTar = join(host, "not.tar");
    fs.writeFileSync(notTar, "x".repeat(2048));
    assert.match((await berth(root, ["cp", "-", "c:/drop"], { stdin: { file: notTar } })).stderr, /^berth: invalidArgument: not a tar archive/);
    assert.is((await berth(root, ["cp", "-", "-"])).code, 125);
    await ok(root, ["kill", "c"]);
    await ok(root, ["wait", "c"], 137);
    // Stopped: the layer is mounted for the copy and stays mounted until the last chunk is written.
    const stopped = execFileSync("sh", ["-c", `"${process.execPath}" "${bin}" cp c:/srv/big.bin - | tar -xO | sha256sum`], { env, encoding: "utf8" });
    assert.is(stopped.split(" ")[0], createHash("sha256").update(fs.readFileSync(join(tree, "big.bin"))).digest("hex"));
  }));

test.run();
