// Large outputs through the whole path (issue #11 point 6): an attached `berth run` whose
// container prints 200 MiB (64 KiB lines, a last line without a newline), then `berth logs` of
// that log, through the real CLI, a compiled daemon and the runc driver, each run as `berth` is
// (bin/berth.js through its shebang, with its V8 flags).
// Reports, for each: time, throughput, whether the bytes match the host's expectation, and the
// summed RSS growth of every berth process on the data path (daemon, CLI, runtime service),
// sampled every 20 ms from /proc, against the target < 64 MB. Reported, not asserted.
//   node --import tsx bench/logs.ts [MiB]
//
// Growth = peak of the summed RSS while the command runs − the sum before it: the daemon's and
// the (warm) service's RSS just before, plus the CLI's floor (the peak RSS of `berth ls`, a
// command that only connects and makes one call), since the CLI does not exist before it runs.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildDist, fmt, report } from "./common.js";

const MIB = 1024 * 1024;
const mib = Number(process.argv[2] ?? 200);
const lines = mib * 16; // 64 KiB lines
const repo = fileURLToPath(new URL("..", import.meta.url));
const bin = join(repo, "bin", "berth.js");
const root = fs.mkdtempSync(join(os.tmpdir(), "blogs-bench-"));
const env = { ...process.env, BERTH_ROOT: root };

const rssOf = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
};

/** Node processes of this root: the daemon and the runtime services (their command lines name the root). */
function berthPids(): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      // `berth` runs as `node --max-semi-space-size=1 bin/berth.js` (its shebang).
      if ((argv[0] === process.execPath || argv[0] === "node") && argv.some((a) => a.includes(root))) pids.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return pids;
}

const isContainerService = (pid: number): boolean => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("big");
  } catch {
    return false;
  }
};

interface Measured {
  ms: number;
  code: number | null;
  sha: string;
  bytes: number;
  growth: number;
  peakCli: number;
  /** Each process's own peak growth, in MiB (their peaks need not coincide). */
  breakdown: string;
}

/** Runs `berth ARGS`, hashing its stdout and sampling the RSS of the CLI and the root's processes. */
function measure(args: string[], cliFloor: number, daemonPid: number): Promise<Measured> {
  const beforeByPid = new Map(berthPids().map((p) => [p, rssOf(p)]));
  const before = [...beforeByPid.values()].reduce((a, b) => a + b, 0);
  const hash = createHash("sha256");
  let bytes = 0;
  const t0 = performance.now();
  const child = spawn(bin, args, { env, stdio: ["ignore", "pipe", "inherit"] });
  child.stdout.on("data", (d: Buffer) => {
    hash.update(d);
    bytes += d.length;
  });
  let peak = 0;
  let peakCli = 0;
  const perPid = new Map<number, number>();
  let breakdown = "";
  const timer = setInterval(() => {
    const cli = rssOf(child.pid!);
    peakCli = Math.max(peakCli, cli);
    let total = cli;
    for (const pid of berthPids()) {
      // A service started meanwhile without a container id is the pool's next warm one: off the path.
      if (!beforeByPid.has(pid) && !isContainerService(pid)) continue;
      const r = rssOf(pid);
      total += r;
      perPid.set(pid, Math.max(perPid.get(pid) ?? 0, r));
    }
    peak = Math.max(peak, total);
  }, 20);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearInterval(timer);
      const parts = [`CLI +${fmt((peakCli - cliFloor) / MIB)}`];
      for (const [pid, peakRss] of perPid) {
        const was = beforeByPid.get(pid) ?? 0;
        parts.push(`${pid === daemonPid ? "daemon" : "service"} +${fmt((peakRss - was) / MIB)} (${fmt(was / MIB)} → ${fmt(peakRss / MIB)})`);
      }
      breakdown = parts.join(", ");
      resolve({ ms: performance.now() - t0, code, sha: hash.digest("hex"), bytes, growth: peak - before - cliFloor, peakCli, breakdown });
    });
  });
}

function expected(): string {
  const h = createHash("sha256");
  const line = `${"a".repeat(65535)}\n`;
  for (let i = 0; i < lines; i++) h.update(line);
  h.update("end");
  return h.digest("hex");
}

async function main(): Promise<void> {
  buildDist();
  const daemon = spawn(bin, ["daemon", "--root", root, "--default-network", "none"], { env, stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise<void>((resolve) => daemon.stdout!.on("data", (d) => String(d).includes("serving") && resolve()));
    // The CLI's floor: the peak RSS of a command that connects and makes one call.
    let cliFloor = 0;
    for (let i = 0; i < 3; i++) {
      const ls = spawn(bin, ["ls"], { env, stdio: "ignore" });
      const t = setInterval(() => (cliFloor = Math.max(cliFloor, rssOf(ls.pid!))), 5);
      await new Promise((r) => ls.on("close", r));
      clearInterval(t);
    }
    await new Promise((r) => setTimeout(r, 1000)); // let the warm service finish starting
    const want = expected();
    const cmd = `L=$(head -c 65535 /dev/zero | tr '\\0' a); yes "$L" | head -n ${lines}; printf end; exit 7`;
    const run = await measure(["run", "--name", "big", "busybox", "sh", "-c", cmd], cliFloor, daemon.pid!);
    const logs = await measure(["logs", "big"], cliFloor, daemon.pid!);
    spawnSync(process.execPath, [bin, "rm", "-f", "big"], { env, stdio: "ignore" });
    const row = (m: Measured, code: number): [string, string][] => [
      ["  exit code", `${m.code} (expected ${code})`],
      ["  bytes, sha256", `${fmt(m.bytes / MIB)} MiB, ${m.sha === want ? "identical to the host's" : `DIFFERENT (${m.sha})`}`],
      ["  time", `${fmt(m.ms / 1000)} s, ${fmt(m.bytes / MIB / (m.ms / 1000))} MiB/s`],
      ["  summed RSS growth", `${fmt(m.growth / MIB)} MiB (target < 64 MB)`],
      ["  per process", m.breakdown],
    ];
    report(`large output, ${mib} MiB of 64 KiB lines (CLI floor ${fmt(cliFloor / MIB)} MiB)`, [
      ["attached run", ""], ...row(run, 7),
      ["logs", ""], ...row(logs, 0),
    ]);
  } finally {
    spawnSync(process.execPath, [bin, "rm", "-f", "big"], { env, stdio: "ignore", timeout: 60_000 }); // also after a failure
    daemon.kill("SIGTERM");
    await new Promise((r) => daemon.on("close", r));
    for (const pid of berthPids()) process.kill(pid, "SIGTERM"); // this root's warm service, by pid
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
