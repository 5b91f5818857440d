// The log readers (src/vm/logs.ts) over conmon's k8s-file format, without a container: partial
// entries join into the lines as written, multi-byte text comes back whole, --tail counts lines
// as written, since/until and stream filters hold, two processes' files merge by time, and a
// follower sees what is written after it began, with backpressure. vm-lifecycle.test.ts reads
// what a real conmon wrote.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { entryText, followLogs, logFilesIn, parseK8sLine, readLogs, type LogEntry } from "../src/vm/logs.js";
import { tempDir } from "./helpers/tmp.js";

/** Writes entries as conmon does: `TS STREAM F|P TEXT`, nanosecond times from `ms`. */
function k8s(file: string, entries: [ms: number, stream: "stdout" | "stderr", tag: "F" | "P", text: string][]): void {
  const line = ([ms, s, tag, text]: (typeof entries)[number]) => `${new Date(ms).toISOString().replace("Z", "123456+00:00")} ${s} ${tag} ${text}\n`;
  fs.appendFileSync(file, entries.map(line).join(""));
}

const T = Date.parse("2026-12-01T17:46:29.270Z");

test("a k8s-file line parses to its time (ms and the nanosecond text), stream, and partial mark; a torn one does not", () => {
  const e = parseK8sLine("2026-12-01T17:46:29.270989495+00:00 stdout P hé llo", "web");
  assert.equal(e, { t: T, ts: "2026-12-01T17:46:29.270989495+00:00", s: "stdout", p: "web", line: "hé llo", partial: true });
  assert.is(parseK8sLine("2026-12-01T17:46:29.270989495+00:00 stderr F ", "web")!.line, "");
  for (const torn of ["2026-12-01T17:46:29.27098", "2026-12-01T17:46:29.270989495+00:00 stdin F x", "garbage"]) assert.is(parseK8sLine(torn, "web"), undefined, torn);
});

test("partial entries join into the lines as written; --tail counts lines, not entries; since, until and streams filter", () => {
  const dir = tempDir("berth-logs-");
  try {
    const file = join(dir.path, "c1.log");
    const long = "é".repeat(5000);
    k8s(file, [
      [T, "stdout", "F", "short"],
      [T + 1, "stdout", "P", long],
      [T + 2, "stderr", "F", "an error"],
      [T + 3, "stdout", "F", long],
      [T + 4, "stdout", "F", "ünïcødé 🚀"],
      [T + 5, "stdout", "P", "no newline at the end"],
    ]);
    fs.appendFileSync(file, "2026-12-01T17:46:29.2"); // a line torn by a crash mid-write
    const files = [{ processId: "c1", path: file }];
    const all = readLogs(files);
    assert.is(all.filter((e) => e.s === "stdout").map(entryText).join(""), `short\n${long}${long}\nünïcødé 🚀\nno newline at the end`);
    assert.ok(all.every((e) => e.p === "c1"));
    // The last two lines as written; the two entries of the long line count as one line.
    assert.is(readLogs(files, { tail: 2 }).map(entryText).join(""), "ünïcødé 🚀\nno newline at the end");
    assert.is(readLogs(files, { tail: 3 }).map(entryText).join(""), "an error\nünïcødé 🚀\nno newline at the end");
    // The long line is one line of five, whose two entries the stderr line falls between in time.
    assert.is(readLogs(files, { tail: 4 }).length, 5);
    assert.equal(readLogs(files, { since: T + 2, until: T + 4, stdout: false }).map((e) => e.line), ["an error"]);
    assert.equal(readLogs(files, { stderr: false, until: T + 1 }).map((e) => e.line), ["short"]);
  } finally {
    dir.remove();
  }
});

test("two processes' files merge by time, each entry naming its process", () => {
  const dir = tempDir("berth-logs-");
  try {
    k8s(join(dir.path, "a.log"), [[T, "stdout", "F", "a1"], [T + 2, "stdout", "F", "a2"]]);
    k8s(join(dir.path, "b.log"), [[T + 1, "stderr", "F", "b1"], [T + 3, "stdout", "F", "b2"]]);
    const files = logFilesIn(dir.path).sort((x, y) => x.processId.localeCompare(y.processId));
    assert.equal(files.map((f) => f.processId), ["a", "b"]);
    assert.equal(readLogs(files).map((e) => `${e.p}:${e.line}`), ["a:a1", "b:b1", "a:a2", "b:b2"]);
  } finally {
    dir.remove();
  }
});

test("a follower reads what was there, then what is written later, waits for a slow reader, and ends once the writer is done", async () => {
  const dir = tempDir("berth-logs-");
  try {
    const file = join(dir.path, "p.log");
    k8s(file, [[T, "stdout", "F", "before"]]);
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const seen: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const emit = async (e: LogEntry) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5)); // a slow client: the next entry waits for this one
      seen.push(entryText(e));
      inFlight--;
    };
    const following = followLogs([{ processId: "p", path: file }], {}, { done, signal: new AbortController().signal, emit });
    await new Promise((r) => setTimeout(r, 30));
    k8s(file, [[T + 1, "stderr", "F", "during"], [T + 2, "stdout", "P", "after"]]);
    await new Promise((r) => setTimeout(r, 30));
    finish();
    await following;
    assert.equal(seen, ["before\n", "during\n", "after"]);
    assert.is(maxInFlight, 1, "one entry at a time: the file is the buffer");
  } finally {
    dir.remove();
  }
});

test("a follower of a file not written yet picks it up once it appears; an abort ends it", async () => {
  const dir = tempDir("berth-logs-");
  try {
    const file = join(dir.path, "late.log");
    const abort = new AbortController();
    const seen: string[] = [];
    const following = followLogs([{ processId: "late", path: file }], {}, { done: new Promise(() => {}), signal: abort.signal, emit: (e) => void seen.push(e.line) });
    await new Promise((r) => setTimeout(r, 20));
    k8s(file, [[T, "stdout", "F", "hello"]]);
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    await following;
    assert.equal(seen, ["hello"]);
  } finally {
    dir.remove();
  }
});

test.run();
