// The keystroke-to-echo round trip through an attached terminal: `berth run -it` against
// `podman run -it`, in the same run. Each CLI runs on the slave side of a pty pair this bench
// opens itself (as a terminal emulator would); the container runs `cat` under `stty raw -echo`,
// so every byte written to the master comes back once, through the CLI, conmon and the
// container's own pty. Samples alternate between the two sessions, one byte at a time.
// Target: berth's p99 <= 1.2x podman's (the median of 3 runs' p99s).
// Run: node --import tsx bench/attach-echo.ts [samples per run, default 1000] [runs, default 3]
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hostcalls, unmountUnder } from "../src/vm/hostcalls.js";
import { buildDist, median, percentile, report, startDaemon } from "./common.js";

const samplesPerRun = Number(process.argv[2] ?? 1000);
const runs = Number(process.argv[3] ?? 3);
const repo = fileURLToPath(new URL("..", import.meta.url));
const bin = join(repo, "bin", "berth.js");
const root = fs.mkdtempSync(join(os.tmpdir(), "becho-bench-"));
const podRoot = join(root, "podman");
const CAT = ["sh", "-c", "stty raw -echo; echo ready; exec cat"];

interface Session {
  name: string;
  child: ChildProcess;
  master: number;
}

/** Starts `command` with a fresh pty as its stdin, stdout and stderr, and waits for the container's "ready". */
function session(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): Session {
  const { master, slave } = hostcalls().openpty();
  const child = spawn(command, args, { stdio: [slave, slave, slave], env, detached: true });
  fs.closeSync(slave);
  let seen = "";
  const buf = Buffer.alloc(4096);
  const deadline = Date.now() + 60_000;
  while (!seen.includes("ready")) {
    if (Date.now() > deadline) throw new Error(`${name} never got ready: ${JSON.stringify(seen)}`);
    const n = fs.readSync(master, buf, 0, buf.length, null);
    seen += buf.subarray(0, n).toString();
  }
  // The start-up output after "ready" (its newline) is read by the first round trip, of a byte the samples never use.
  const sess = { name, child, master };
  roundTrip(sess, 0x7e);
  return sess;
}

/** One keystroke's round trip in ms: write a byte, read until it comes back. */
function roundTrip(s: Session, byte: number): number {
  const out = Buffer.from([byte]);
  const buf = Buffer.alloc(64);
  const t0 = process.hrtime.bigint();
  fs.writeSync(s.master, out);
  for (;;) {
    const n = fs.readSync(s.master, buf, 0, buf.length, null);
    if (buf.subarray(0, n).includes(byte)) break;
  }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const podmanGlobal = ["--root", join(podRoot, "storage"), "--runroot", join(podRoot, "run"), "--tmpdir", join(podRoot, "tmp"), "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", "runc"];
const podmanArgs = (rootfs: string, name: string) => [
  ...podmanGlobal,
  "run", "-it", "--rm", "--name", name, "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--rootfs", rootfs, ...CAT,
];

/** Ends a session: its CLI, then the container it leaves running, removed as its own CLI removes it. */
function end(s: Session, remove: string[], env: NodeJS.ProcessEnv): void {
  try {
    process.kill(-s.child.pid!, "SIGKILL");
  } catch {
    // already gone
  }
  fs.closeSync(s.master);
  const r = spawnSync(remove[0]!, remove.slice(1), { env, stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) console.error(`${s.name}: ${remove.join(" ")} exited ${r.status}: ${r.stderr}`);
}

buildDist();
const env = { ...process.env, BERTH_ROOT: root };
const daemon = await startDaemon(bin, root);
const p99s = { berth: [] as number[], podman: [] as number[] };
const p50s = { berth: [] as number[], podman: [] as number[] };
try {
  spawnSync(process.execPath, [bin, "run", "--rm", "busybox", "true"], { env, stdio: "ignore" }); // builds the busybox image
  const rootfs = join(root, "podman-rootfs");
  fs.cpSync(join(root, "images", "busybox", "rootfs"), rootfs, { recursive: true, verbatimSymlinks: true });
  for (let run = 0; run < runs; run++) {
    const name = `echo${run}`;
    const berth = session("berth", process.execPath, [bin, "run", "-it", "--rm", "--name", name, "--network", "none", "busybox", ...CAT], env);
    const podman = session("podman", "podman", podmanArgs(rootfs, name), process.env);
    const times = { berth: [] as number[], podman: [] as number[] };
    try {
      for (let i = 0; i < samplesPerRun; i++) {
        const byte = 0x61 + (i % 26);
        // Alternating which goes first, so neither always meets the other's leftovers.
        const order = i % 2 === 0 ? [berth, podman] : [podman, berth];
        for (const s of order) times[s.name as "berth" | "podman"].push(roundTrip(s, byte));
      }
    } finally {
      end(berth, [process.execPath, bin, "rm", "-f", name], env);
      end(podman, ["podman", ...podmanGlobal, "rm", "-f", "-t", "0", name], process.env);
    }
    for (const k of ["berth", "podman"] as const) {
      p50s[k].push(percentile(times[k], 50));
      p99s[k].push(percentile(times[k], 99));
    }
  }
  const b99 = median(p99s.berth);
  const p99 = median(p99s.podman);
  report(`keystroke to echo through run -it, ${samplesPerRun} samples x ${runs} runs, interleaved`, [
    ["berth p50 (median of runs)", `${median(p50s.berth).toFixed(3)} ms`],
    ["podman p50 (median of runs)", `${median(p50s.podman).toFixed(3)} ms`],
    ["berth p99 (median of runs' p99)", `${b99.toFixed(3)} ms`],
    ["podman p99 (median of runs' p99)", `${p99.toFixed(3)} ms`],
    ["ratio berth / podman p99", `${(b99 / p99).toFixed(2)}x (target <= 1.2x)`],
  ]);
} finally {
  daemon.kill("SIGTERM");
  await new Promise((r) => daemon.once("exit", r));
  unmountUnder(root); // podman's overlay storage stays mounted after its last container
  fs.rmSync(root, { recursive: true, force: true });
}
