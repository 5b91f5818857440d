// Issue #11 point 10: bind mounts through the real CLI, a real daemon and runc. Relative sources
// resolve against the CLI's working directory, a bare name is refused, and no container gets
// the berth root: not the root, not inside it, not through a symlink, not through a parent
// mounted read-write. A read-only parent is allowed and shows the root as an empty directory.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decideBindMount } from "../src/commands/mounts.js";
import { BerthError } from "../src/model/errors.js";
import { berth, tempRoot, withDaemon } from "./helpers/cli-env.js";
import { journalEvents } from "./helpers/daemon.js";
import { rejection } from "./helpers/errors.js";

/** A scratch directory beside the root (not a parent of it), always removed. */
async function withScratch(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = tempRoot();
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const created = async (root: string) => (await journalEvents(root)).filter((e) => e.type === "ContainerCreated");

test("./ and ../ sources resolve against the CLI's working directory; the absolute path is journaled and inspected; a bare name is refused", () =>
  withDaemon((root) =>
    withScratch(async (scratch) => {
      const work = join(scratch, "work");
      fs.mkdirSync(join(work, "data"), { recursive: true });
      fs.writeFileSync(join(work, "data", "hello.txt"), "hello from the host\n");

      const r = await berth(root, ["run", "--name", "m", "-v", "./data:/data", "-v", "../work/data/:/again:ro", "busybox", "cat", "/data/hello.txt", "/again/hello.txt"], { cwd: work });
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, "hello from the host\n".repeat(2));
      const expected = [
        { source: join(work, "data"), destination: "/data", readOnly: false },
        { source: join(work, "data"), destination: "/again", readOnly: true },
      ];
      const inspect = await berth(root, ["inspect", "m"]);
      assert.is(inspect.code, 0, inspect.stderr);
      assert.equal(JSON.parse(inspect.stdout)[0].config.mounts, expected);
      const [event] = await created(root);
      assert.equal((event!.data as { config: { mounts: unknown } }).config.mounts, expected);

      const named = await berth(root, ["run", "--rm", "-v", "data:/data", "busybox", "true"], { cwd: work });
      assert.is(named.code, 125, named.stdout);
      assert.match(named.stderr, /invalidArgument: invalid volume "data:\/data": "data" would be a named volume/);
      assert.is((await created(root)).length, 1, "the refused run journaled nothing");
      assert.is((await berth(root, ["rm", "m"])).code, 0);
    })));

test("the root, a path inside it, a symlink to it and any parent mounted read-write, or used as --rootfs, are refused, and nothing is journaled", () =>
  withDaemon((root, daemon) =>
    withScratch(async (scratch) => {
      fs.symlinkSync(root, join(scratch, "link"));
      // The reported case: ../../ from a directory two levels down (/tmp/x) is the host's /.
      const up = "../".repeat(scratch.split("/").length - 1);
      const cases: [string[], RegExp, string?][] = [
        [["-v", `${root}:/x`], /it is the berth root/],
        [["-v", `${root}:/x:ro`], /it is the berth root/],
        [["-v", `${join(root, "containers")}:/x:ro`], /it is inside the berth root/],
        [["-v", `${join(scratch, "link")}:/x:ro`], /link \(.* on the host\): it is the berth root/],
        [["-v", "/:/x"], /cannot bind mount \/ read-write: it contains the berth root/],
        [["-v", `${join(root, "..")}:/x:rw`], /read-write: it contains the berth root/],
        [["-v", `${up}:/x`], /cannot bind mount \/ read-write: it contains the berth root/, scratch],
        // A --rootfs directory is the overlay's lower layer: readable whole, so no mode helps.
        [["--rootfs", "/"], /cannot use \/ as the root filesystem: it contains the berth root/],
        [["--rootfs", join(root, "containers")], /cannot use .* as the root filesystem: it is inside the berth root/],
        [["--rootfs", join(scratch, "link")], /link \(.* on the host\) as the root filesystem: it is the berth root/],
      ];
      for (const [flags, message, cwd] of cases) {
        const r = await berth(root, ["run", "--rm", ...flags, "busybox", "true"], cwd ? { cwd } : {});
        assert.is(r.code, 125, `${flags.join(" ")}: ${r.stdout}`);
        assert.match(r.stderr, /berth: invalidArgument: /);
        assert.match(r.stderr, message, flags.join(" "));
      }
      assert.is((await created(root)).length, 0, "no refused mount was journaled");

      // The daemon refuses a relative source itself, whatever a client sends.
      const ipc = await daemon.ipc();
      try {
        const err = await rejection(ipc.call("create", { id: "rel", config: { init: { args: ["true"] }, mounts: [{ source: "data", destination: "/data" }] } }));
        assert.instance(err, BerthError);
        assert.is(err.code, "invalidArgument");
        assert.match(err.message, /mounts\[0\]\.source must be an absolute host path/);
      } finally {
        ipc.close();
      }
      assert.is((await created(root)).length, 0);
    })));

test("a symlink re-pointed at the root between create and start is refused at start", () =>
  withDaemon((root) =>
    withScratch(async (scratch) => {
      const link = join(scratch, "link");
      fs.mkdirSync(join(scratch, "harmless"));
      fs.symlinkSync(join(scratch, "harmless"), link);
      const c = await berth(root, ["create", "--name", "swap", "-v", `${link}:/x`, "busybox", "ls", "/x"]);
      assert.is(c.code, 0, c.stderr);
      fs.unlinkSync(link);
      fs.symlinkSync(root, link);
      const s = await berth(root, ["start", "-a", "swap"]);
      assert.is(s.code, 125, s.stdout);
      assert.match(s.stderr, /invalidArgument: cannot bind mount .*link .*: it is the berth root/);
      assert.not.ok(s.stdout.includes("journal.db"), "the container never listed the root");
    })));

test("a read-only parent of the root is allowed, and the root inside it is an empty read-only directory", () =>
  withDaemon((root) =>
    withScratch(async (scratch) => {
      fs.writeFileSync(join(scratch, "marker"), "host file\n");
      const script = `cat /host${scratch}/marker; ls -A /host${root}; test -e /host${root}/journal.db || echo root-hidden; touch /host${scratch}/new 2>/dev/null || echo read-only`;
      const r = await berth(root, ["run", "--rm", "-v", "/:/host:ro", "busybox", "sh", "-c", script]);
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, "host file\nroot-hidden\nread-only\n");
      assert.not.ok(fs.existsSync(join(scratch, "new")));
    })));

test("the rule itself: a sibling sharing the root's name prefix is neither inside nor a parent; a read-only parent masks the root's place", () => {
  const m = (source: string, readOnly = false) => ({ source, destination: "/x", readOnly });
  assert.equal(decideBindMount(m("/var/lib/berth2"), "/var/lib/berth2", "/var/lib/berth"), { ok: true });
  assert.equal(decideBindMount(m("/var/lib/berth/../b"), "/var/lib/b", "/var/lib/berth"), { ok: true });
  assert.equal(decideBindMount(m("/var", true), "/var", "/var/lib/berth"), { ok: true, mask: "/x/lib/berth" });
  assert.equal(decideBindMount(m("/", true), "/", "/var/lib/berth"), { ok: true, mask: "/x/var/lib/berth" });
  assert.is(decideBindMount(m("/var/lib/berth/images", true), "/var/lib/berth/images", "/var/lib/berth").ok, false);
  assert.is(decideBindMount(m("/var"), "/var", "/var/lib/berth").ok, false);
});

test.run();
