// Acceptance 6: bad input gets a clear message, exit 125 (2 for usage errors), and no journal change.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, ensureBuilt, journalHead, tempRoot, withDaemon } from "./helpers/cli-env.js";
import fs from "node:fs";

test("bad input is refused with a clear message and the journal does not move", () =>
  withDaemon(async (root) => {
    assert.is((await berth(root, ["run", "-d", "--name", "r", "busybox", "sleep", "1000"])).code, 0);
    const head = await journalHead(root);
    const cases: { args: string[]; code: number; message: RegExp }[] = [
      { args: ["ls", "--bogus"], code: 2, message: /^berth: usage: unknown option '--bogus'/ },
      { args: ["frobnicate"], code: 2, message: /^berth: usage: unknown command 'frobnicate'/ },
      { args: ["run"], code: 125, message: /^berth: invalidArgument: missing IMAGE/ },
      { args: ["kill", "-s", "SIGFOO", "r"], code: 125, message: /^berth: invalidArgument: unknown signal "SIGFOO"/ },
      { args: ["stop", "-s", "99", "r"], code: 125, message: /^berth: invalidArgument: unknown signal number 99/ },
      { args: ["inspect", "../x"], code: 125, message: /^berth: invalidArgument: invalid container id "\.\.\/x"/ },
      { args: ["rm", "x".repeat(200)], code: 125, message: /^berth: invalidArgument: invalid container id "x{40}…"/ },
      { args: ["run", "--name", "y".repeat(200), "busybox", "true"], code: 125, message: /invalid container id/ },
      { args: ["run", "--memory", "12q", "busybox", "true"], code: 125, message: /invalid size "12q"/ },
      { args: ["run", "--restart", "sometimes", "busybox", "true"], code: 125, message: /invalid restart policy/ },
      { args: ["run", "-v", "nocolon", "busybox", "true"], code: 125, message: /invalid volume "nocolon"/ },
      { args: ["rm", "r"], code: 125, message: /^berth: invalidState: cannot delete: container r is running, expected/ },
      { args: ["start", "r"], code: 125, message: /^berth: invalidState: cannot start: container r is running, expected/ },
      { args: ["create", "--name", "r", "busybox"], code: 125, message: /^berth: exists: cannot create: container r already exists/ },
      { args: ["stop", "nosuch"], code: 125, message: /^berth: notFound: no such container: nosuch/ },
      { args: ["events", "--filter", "colour=red"], code: 125, message: /unknown filter "colour"/ },
      { args: ["events", "--since", "yesterday"], code: 125, message: /invalid time "yesterday"/ },
    ];
    for (const c of cases) {
      const r = await berth(root, c.args);
      assert.is(r.code, c.code, `${c.args.join(" ").slice(0, 60)}: ${r.stderr}`);
      assert.match(r.stderr, c.message, c.args.join(" ").slice(0, 60));
      assert.equal(await journalHead(root), head, `${c.args.join(" ").slice(0, 60)} changed the journal`);
    }
    assert.is((await berth(root, ["rm", "-f", "r"])).code, 0);
  }));

test("without a daemon, berth says so and how to start one", async () => {
  ensureBuilt();
  const root = tempRoot();
  try {
    const r = await berth(root, ["ls"]);
    assert.is(r.code, 125);
    assert.match(r.stderr, /^berth: notFound: .*Is the daemon running\? Start it with `berth daemon/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("every command has --help with examples", async () => {
  ensureBuilt();
  const root = tempRoot();
  try {
    const commands = ["run", "create", "start", "stop", "kill", "rm", "exec", "wait", "logs", "inspect", "ls", "stats", "bootstrap", "shutdown", "events", "history", "daemon", "journal verify", "journal export", "journal import", "journal replay", "journal stats", "image import"];
    for (const c of commands) {
      const r = await berth(root, [...c.split(" "), "--help"]);
      assert.is(r.code, 0, c);
      assert.match(r.stdout, /Examples:\n  \$ berth /, `${c} --help has examples`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test.run();
