// Acceptance 5: replay determinism. `berth inspect` is sampled while a daemon works; the journal
// is exported, then `berth journal replay FILE --at POS` on another root must give the same
// JSON at each sampled position, without a daemon and without running any effect.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, journalHead, runcList, tempRoot, withDaemon } from "./helpers/cli-env.js";

interface Sample {
  position: number;
  id: string;
  inspect: unknown;
}

test("journal replay --at POS on another root reproduces the live inspect JSON at sampled positions", () =>
  withDaemon(async (root) => {
    const samples: Sample[] = [];
    const ids = new Set<string>();
    /** Inspect every known container; keep the reading only if the journal did not move meanwhile. */
    const sample = async () => {
      for (const id of ids) {
        const before = (await journalHead(root)).position;
        const r = await berth(root, ["inspect", id]);
        const after = (await journalHead(root)).position;
        if (r.code === 0 && before === after) samples.push({ position: before, id, inspect: JSON.parse(r.stdout)[0] });
      }
    };
    const step = async (args: string[], expected = 0) => {
      const r = await berth(root, args);
      assert.is(r.code, expected, `${args.join(" ")}: ${r.stderr}`);
      await sample();
    };

    ids.add("w").add("c").add("r");
    await step(["run", "-d", "--name", "w", "-l", "team=a", "busybox", "sleep", "1000"]);
    await step(["exec", "w", "sh", "-c", "exit 5"], 5);
    await step(["create", "--name", "c", "--memory", "64m", "busybox", "echo", "hi"]);
    await step(["start", "-a", "c"]);
    await step(["kill", "-s", "HUP", "w"]);
    await step(["run", "--name", "r", "busybox", "sh", "-c", "exit 2"], 2);
    await step(["stop", "-t", "1", "w"]);
    await step(["rm", "c"]);
    await step(["start", "w"]);
    await step(["rm", "-f", "w", "r"]);
    assert.ok(samples.length >= 10, `only ${samples.length} stable samples`);

    const file = join(root, "journal.export");
    const exp = await berth(root, ["journal", "export", file]);
    assert.is(exp.code, 0, exp.stderr);

    const other = tempRoot();
    try {
      for (const s of samples) {
        const r = await berth(other, ["journal", "replay", file, "--at", String(s.position), "--format", "json"]);
        assert.is(r.code, 0, r.stderr);
        const replayed = JSON.parse(r.stdout) as { position: number; containers: { id: string }[] };
        assert.is(replayed.position, s.position);
        assert.equal(replayed.containers.find((c) => c.id === s.id), s.inspect, `${s.id} at position ${s.position}`);
      }
      // Nothing ran: the other root holds no journal, no container and no runc state.
      assert.not.ok(fs.existsSync(join(other, "journal.db")));
      assert.equal(runcList(root), []);

      // import into a fresh root carries the same chain.
      const imp = await berth(other, ["journal", "import", file]);
      assert.is(imp.code, 0, imp.stderr);
      const a = await berth(root, ["journal", "verify", "--format", "json"]);
      const b = await berth(other, ["journal", "verify", "--format", "json"]);
      assert.equal(JSON.parse(b.stdout), JSON.parse(a.stdout));
      const again = await berth(other, ["journal", "import", file]);
      assert.is(again.code, 125);
      assert.match(again.stderr, /needs an empty journal/);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  }));

test.run();
