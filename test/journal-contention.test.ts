// Acceptance 2.3: the append path under contention and crashes, with real processes.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Journal } from "../src/events/journal.js";
import { tempDir } from "./helpers/tmp.js";

const appender = join(import.meta.dirname, "helpers", "journal-appender.ts");

function startAppender(path: string, stream: string, count: number): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", appender, path, stream, String(count)], { stdio: ["ignore", "pipe", "inherit"] });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

test("two processes appending concurrently lose and duplicate no position", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "journal.db");
    (await Journal.open(path)).close(); // create the schema once
    const children = [startAppender(path, "container-a", 300), startAppender(path, "container-b", 300)];
    const codes = await Promise.all(children.map(exited));
    assert.equal(codes, [0, 0]);
    const journal = await Journal.open(path);
    try {
      const all = [...journal.readAll()];
      assert.is(all.length, 1800);
      assert.equal(all.map((e) => e.position), Array.from({ length: 1800 }, (_, i) => i + 1));
      for (const stream of ["container-a", "container-b"]) {
        const versions = all.filter((e) => e.streamId === stream).map((e) => e.version);
        assert.equal(versions, Array.from({ length: 900 }, (_, i) => i + 1), `${stream} versions are contiguous`);
      }
      const writers = new Set(all.map((e) => e.actor?.pid));
      assert.is(writers.size, 2, "both processes wrote");
      assert.ok(journal.verify().ok);
    } finally {
      journal.close();
    }
  } finally {
    dir.remove();
  }
});

test("SIGKILL in the middle of a stream of appends leaves whole commits that verify", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "journal.db");
    (await Journal.open(path)).close();
    const child = startAppender(path, "container-k", 0);
    const watcher = await Journal.open(path, { readonly: true });
    try {
      while (watcher.head().position < 600) await new Promise((r) => setTimeout(r, 5));
    } finally {
      watcher.close();
    }
    child.kill("SIGKILL");
    assert.is(await exited(child), null);
    const journal = await Journal.open(path);
    try {
      const check = journal.verify();
      assert.ok(check.ok, JSON.stringify(check));
      const events = [...journal.readAll()];
      assert.ok(events.length >= 600);
      assert.is(events.length % 3, 0, "no partial commit");
      const perCommand = new Map<string, number>();
      for (const e of events) perCommand.set(e.commandId!, (perCommand.get(e.commandId!) ?? 0) + 1);
      for (const [command, n] of perCommand) assert.is(n, 3, `command ${command} is whole`);
      // And the journal is writable again afterwards.
      journal.append("container-k", [{ type: "ContainerDeleted", data: {} }], events.length);
      assert.ok(journal.verify().ok);
    } finally {
      journal.close();
    }
  } finally {
    dir.remove();
  }
});

test.run();
