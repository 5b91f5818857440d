// Spawning and reaping the child roles of ipc-child.ts. Every child is tracked so a test's
// finally block can kill whatever is still running.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { buildSync } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "ipc-child.ts");
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** The next JSON line the child prints. */
  line<T = Record<string, unknown>>(): Promise<T>;
  /** Resolves with the exit code or signal once the child is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

let bundled: string | undefined;

/**
 * A client for another uid runs from a bundle in a world-readable temporary directory: the
 * checkout (and tsx in it) may sit under a directory that uid cannot enter.
 */
function otherUidClient(): string {
  if (bundled) return bundled;
  const dir = mkdtempSync(join(tmpdir(), "berth-ipc-client-"));
  chmodSync(dir, 0o755);
  const outfile = join(dir, "client.mjs");
  buildSync({ entryPoints: [join(dirname(CHILD), "ipc-client-child.ts")], bundle: true, platform: "node", format: "esm", outfile, logLevel: "error" });
  chmodSync(outfile, 0o644);
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return (bundled = outfile);
}

export function spawnChild(args: string[], opts: { uid?: number; gid?: number } = {}): Child {
  const asOtherUid = opts.uid !== undefined && opts.uid !== process.getuid?.();
  if (asOtherUid && args[0] !== "client") throw new Error("only the client role runs as another uid");
  const argv = asOtherUid ? [otherUidClient(), ...args.slice(1)] : ["--import", "tsx", CHILD, ...args];
  const proc = spawn(process.execPath, argv, {
    cwd: asOtherUid ? "/" : ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  });
  let out = "";
  let err = "";
  const lines: string[] = [];
  const waiters: Array<(l: string | undefined) => void> = [];
  let ended = false;
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    let i: number;
    while ((i = out.indexOf("\n")) >= 0) {
      const l = out.slice(0, i);
      out = out.slice(i + 1);
      const w = waiters.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => {
      ended = true;
      for (const w of waiters.splice(0)) w(undefined);
      resolve({ code, signal });
    }),
  );
  return {
    proc,
    pid: proc.pid!,
    exited,
    stderr: () => err,
    line<T>() {
      return new Promise<T>((resolve, reject) => {
        const take = (l: string | undefined) =>
          l === undefined ? reject(new Error(`child ${args[0]} exited before printing a line; stderr:\n${err}`)) : resolve(JSON.parse(l) as T);
        const l = lines.shift();
        if (l !== undefined) take(l);
        else if (ended) take(undefined);
        else waiters.push(take);
      });
    },
    async kill(signal = "SIGKILL") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** Kills every child given (ignoring ones already gone). For finally blocks. */
export async function reap(...children: Array<Child | undefined>): Promise<void> {
  await Promise.all(children.map((c) => c?.kill()));
}
