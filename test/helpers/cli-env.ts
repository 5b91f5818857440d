// Drives the real `berth` binary (bin/berth.js → dist/bundle/) against a real daemon started with
// `berth daemon`, in a throwaway root. The CLI is compiled and bundled first when dist/ is older
// than src/.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { join } from "node:path";
import { Journal } from "../../src/events/journal.js";
import { journalPath } from "../../src/host/root-layout.js";
import { runcList, startDaemon, tempRoot, waitFor, withDaemon as withDaemonFrame, type DaemonProcess } from "./daemon.js";

export { runcList, tempRoot, waitFor };

export const repo = join(import.meta.dirname, "..", "..");
export const bin = join(repo, "bin", "berth.js");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * Compiles the tree (npm run build) unless dist/ is newer than every source file, then bundles
 * it (scripts/bundle.mjs) unless the bundle is newer than the build: bin/berth.js skips an older
 * bundle, and the tests should drive what users run.
 */
export function ensureBuilt(): void {
  const main = join(repo, "dist", "src", "cli", "main.js");
  if (!fs.existsSync(main) || fs.statSync(main).mtimeMs < Math.max(newestMtime(join(repo, "src")), newestMtime(join(repo, "migrations")))) {
    try {
      execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: repo, stdio: "inherit" });
    } catch {
      // tsc still emits when some other file has a type error; the CLI's own tests judge the CLI.
      if (!fs.existsSync(main)) throw new Error("npm run build produced no dist/src/cli/main.js");
    }
    // tsc does not touch unchanged outputs; mark the build as fresh.
    const now = new Date();
    fs.utimesSync(main, now, now);
  }
  const bundle = join(repo, "dist", "bundle", "cli.mjs");
  if (!fs.existsSync(bundle) || fs.statSync(bundle).mtimeMs < fs.statSync(main).mtimeMs) {
    execFileSync(process.execPath, [join(repo, "scripts", "bundle.mjs")], { stdio: "inherit" });
  }
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `berth ARGS` with BERTH_ROOT=root and resolves with its exit code and output. */
export function berth(root: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string; stdin?: Buffer | { file: string } } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    // stdin: bytes through a pipe, or a file opened as the CLI's stdin (`< FILE`); else none.
    const input = opts.stdin === undefined ? "ignore" : Buffer.isBuffer(opts.stdin) ? "pipe" : fs.openSync(opts.stdin.file, "r");
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, BERTH_ROOT: root, ...opts.env }, stdio: [input, "pipe", "pipe"], cwd: opts.cwd });
    if (typeof input === "number") fs.closeSync(input);
    if (Buffer.isBuffer(opts.stdin)) child.stdin!.end(opts.stdin);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal === "SIGKILL" ? 9 : 15), stdout, stderr });
    });
  });
}

/** A long-running `berth` (events -f, logs -f): its output so far, and a way to end it. */
export function berthLive(root: string, args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number> } {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, BERTH_ROOT: root }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** `berth daemon --root ROOT` as a child process, ready when it prints "serving". */
export function startCliDaemon(root: string, flags: string[] = []): Promise<DaemonProcess> {
  return startDaemon(root, "runc", [bin, "daemon", ...flags]);
}

/** A root with a running `berth daemon`, always torn down (containers, runc state, directory). */
export function withDaemon(fn: (root: string, daemon: DaemonProcess) => Promise<void>): Promise<void> {
  ensureBuilt();
  return withDaemonFrame(tempRoot(), (d) => fn(d.root, d.daemon), { command: [bin, "daemon"] });
}

export async function journalHead(root: string): Promise<{ position: number; hash: string }> {
  const journal = await Journal.open(journalPath(root), { readonly: true });
  try {
    return journal.head();
  } finally {
    journal.close();
  }
}
