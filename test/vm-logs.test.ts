// The log files' format and readers (src/vm/logs.ts), without a container: what a process
// writes in whatever chunks comes back byte for byte, long lines and multi-byte characters
// included; --tail counts the lines as written; a follower sees what is written after it began.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { entryText, followLogs, LogReader, LogWriter, readLogs, type LogEntry } from "../src/vm/logs.js";
import { random } from "./helpers/random.js";
import { tempDir } from "./helpers/tmp.js";

const pathsIn = (dir: string) => ({ logs: join(dir, "logs"), stdoutLog: join(dir, "logs", "stdout.log"), stderrLog: join(dir, "logs", "stderr.log") });

test("output in random chunks, with 40 KB lines, multi-byte characters and no final newline, reads back byte for byte", () => {
  const dir = tempDir("berth-logs-");
  try {
    const paths = pathsIn(dir.path);
    const r = random(7);
    const parts = ["short\n", `${"é".repeat(20_000)}\n`, "\n", `${"x".repeat(40_000)}\n`, "ünïcødé 🚀\n", "no newline at the end"];
    const text = parts.join("");
    const bytes = Buffer.from(text);
    const w = new LogWriter(paths);
    for (let at = 0; at < bytes.length; ) {
      const n = 1 + r.int(5000);
      w.write("p", "stdout", bytes.subarray(at, at + n));
      at += n;
    }
    w.flush("p");
    w.close();
    const entries = readLogs(paths);
    assert.is(entries.map(entryText).join(""), text);
    assert.ok(entries.some((e) => e.partial), "long lines are split into partial entries");
    assert.ok(entries.every((e) => Buffer.byteLength(e.line) <= 16 * 1024), "no entry is longer than the split size");
    // --tail 2: the last two lines as written, the unterminated one included.
    const tail = new LogReader(paths, { tail: 2 });
    const last: LogEntry[] = [];
    for (let e; (e = tail.next()); ) last.push(e);
    tail.close();
    assert.is(last.map(entryText).join(""), "ünïcødé 🚀\nno newline at the end");
    // A 40 KB line split into three entries is still one line for --tail.
    const three = readLogs(paths, { tail: 3 });
    assert.is(three.map(entryText).join(""), `${"x".repeat(40_000)}\nünïcødé 🚀\nno newline at the end`);
  } finally {
    dir.remove();
  }
});

test("a follower reads what was there, then what is written later, and ends once the writer is done", async () => {
  const dir = tempDir("berth-logs-");
  try {
    const paths = pathsIn(dir.path);
    const w = new LogWriter(paths);
    w.write("p", "stdout", Buffer.from("before\n"));
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const seen: Record<string, string[]> = { stdout: [], stderr: [] };
    const following = followLogs(paths, {}, { onWrite: (fn) => w.subscribe(fn), done, signal: new AbortController().signal, emit: (e) => void seen[e.s]!.push(entryText(e)) });
    await new Promise((r) => setTimeout(r, 20));
    w.write("p", "stderr", Buffer.from("during\n"));
    w.write("p", "stdout", Buffer.from("after"));
    w.flush("p");
    finish();
    await following;
    w.close();
    // Each stream in order; across streams, entries of the same millisecond may come either way.
    assert.equal(seen, { stdout: ["before\n", "after"], stderr: ["during\n"] });
    assert.ok(fs.statSync(paths.stdoutLog).size > 0);
  } finally {
    dir.remove();
  }
});

test.run();
