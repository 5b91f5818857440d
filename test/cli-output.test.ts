// Issue #11 points 6 and 7: the CLI's output through real pipes, against a real daemon with the
// runc driver. Large outputs reach the reader byte for byte with the container's own exit code,
// every byte of a large listing reaches a pipe before the CLI exits, and a reader that closes
// early ends the CLI quietly.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, bin, withDaemon } from "./helpers/cli-env.js";

const MIB = 1024 * 1024;

/** Runs `berth ARGS` with stdout on a pipe to this process, hashing it instead of keeping it. */
function hashed(root: string, args: string[]): Promise<{ code: number | null; sha: string; bytes: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, BERTH_ROOT: root }, stdio: ["ignore", "pipe", "pipe"] });
    const hash = createHash("sha256");
    let bytes = 0;
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
    });
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, sha: hash.digest("hex"), bytes, stderr }));
  });
}

/** `bash -c SCRIPT` with BERTH pointing at the CLI: a real shell pipeline. */
function shell(root: string, script: string): { stdout: string; stderr: string } {
  let stderr = "";
  try {
    const stdout = execFileSync("bash", ["-c", script], { env: { ...process.env, BERTH_ROOT: root, BERTH: `${process.execPath} ${bin}` }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * MIB });
    return { stdout, stderr };
  } catch (err) {
    stderr = String((err as { stderr?: string }).stderr ?? "");
    throw new Error(`bash -c ${script} failed: ${stderr}`);
  }
}

test("200 MiB of 64 KiB lines and a last line without a newline: attached run and logs print exactly what the container wrote", () =>
  withDaemon(async (root) => {
    const lines = 3200; // 3200 × 64 KiB = 200 MiB
    const cmd = `L=$(head -c 65535 /dev/zero | tr '\\0' a); yes "$L" | head -n ${lines}; printf 'last line'; exit 7`;
    const want = createHash("sha256");
    const line = `${"a".repeat(65535)}\n`;
    for (let i = 0; i < lines; i++) want.update(line);
    want.update("last line");
    const expected = want.digest("hex");

    const run = await hashed(root, ["run", "--name", "big", "busybox", "sh", "-c", cmd]);
    assert.is(run.code, 7, `run exits with the container's code, not 125: ${run.stderr}`);
    assert.is(run.bytes, lines * 65536 + 9);
    assert.is(run.sha, expected, "run printed exactly the container's bytes");
    assert.is(run.stderr, "");

    const logs = await hashed(root, ["logs", "big"]);
    assert.is(logs.code, 0, logs.stderr);
    assert.is(logs.bytes, lines * 65536 + 9);
    assert.is(logs.sha, expected, "logs printed exactly the container's bytes");

    // --tail counts lines as the container wrote them: the last one is the unterminated one.
    const tail = await berth(root, ["logs", "--tail", "1", "big"]);
    assert.is(tail.code, 0, tail.stderr);
    assert.is(tail.stdout, "last line");
    assert.is((await berth(root, ["rm", "big"])).code, 0);
  }));

test("piped output: every byte of ls, events, history and logs reaches the pipe; a reader that closes early ends the CLI quietly with 0", () =>
  withDaemon(async (root) => {
    // A 100 KB label per container makes every listing far larger than a pipe's 64 KiB buffer.
    const labels = (n: number) => Array.from({ length: n }, (_, i) => ["--label", `big${i}=${"x".repeat(100_000)}`]).flat();
    assert.is((await berth(root, ["create", "--name", "c0", ...labels(6), "busybox", "true"])).code, 0); // history of one container
    for (let i = 1; i < 6; i++) assert.is((await berth(root, ["create", "--name", `c${i}`, ...labels(1), "busybox", "true"])).code, 0);
    const out = await berth(root, ["run", "--name", "talker", "busybox", "sh", "-c", "yes 0123456789abcdef | head -n 100000"]);
    assert.is(out.code, 0, out.stderr);

    const dir = fs.mkdtempSync("/tmp/berth-pipe-");
    try {
      for (const args of ["ls -a --format json", "events --format json", "history --format json c0", "logs talker"]) {
        // A file is written synchronously: it holds the whole output to compare the pipe with.
        const file = join(dir, "out");
        shell(root, `$BERTH ${args} > ${file}`);
        const size = fs.statSync(file).size;
        assert.ok(size > 512 * 1024, `${args}: ${size} bytes is more than a pipe holds`);
        const piped = shell(root, `$BERTH ${args} | wc -c`);
        assert.is(Number(piped.stdout.trim()), size, `${args} | wc -c`);
      }
      for (const args of ["events", "ls -a --format json", "logs talker"]) {
        const r = shell(root, `$BERTH ${args} 2>${dir}/err | head -c 10 >/dev/null; echo "rc=\${PIPESTATUS[0]}"`);
        assert.is(r.stdout.trim(), "rc=0", `${args} | head exits 0`);
        assert.is(fs.readFileSync(join(dir, "err"), "utf8"), "", `${args} | head prints nothing on stderr (no EPIPE stack trace)`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }));

test.run();
