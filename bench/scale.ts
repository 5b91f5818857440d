// What a runtime keeps per running container, and how fast it starts and removes a burst of
// them: berth (the built CLI against a daemon on a temp root) against podman 4.3 (conmon per
// container), measured in the same run.
//   1. PSS kept per container: the host process table before and after N `sleep 1000`
//      containers; every new process outside the containers' pid namespaces that belongs to
//      this run (not the daemon) is "kept", and its PSS is summed. berth and podman are measured
//      one after the other, never together, because PSS splits shared pages among sharers.
//   2. Bursts: B parallel `run -d`, then B parallel `rm -f`, berth and podman interleaved, medians.
//   3. The daemon's VmRSS with 100 running berth containers (skip with --no-rss100).
// Targets: PSS <= 1.0 MB per container and <= 1.25x podman; bursts <= 1.0x podman; daemon <= 120 MB.
// Run: node --import tsx bench/scale.ts [N=20] [--rounds 5] [--burst 20] [--no-rss100]
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildDist, fmt, median, report } from "./common.js";
import { keptProcesses, must, names, pidNamespace, pssKb, rssKb, run, snapshot, type Proc } from "./proc-table.js";

const argv = process.argv.slice(2);
const option = (name: string, dflt: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const N = Number(argv.find((a, i) => /^\d+$/.test(a) && !argv[i - 1]?.startsWith("--")) ?? 20);
const rounds = option("--rounds", 5);
const burst = option("--burst", 20);
const rss100 = !argv.includes("--no-rss100");

const repo = fileURLToPath(new URL("..", import.meta.url));
const bin = join(repo, "bin", "berth.js");
const tmp = fs.mkdtempSync(join(os.tmpdir(), "bscale-"));
const berthRoot = join(tmp, "berth");
const podRoot = join(tmp, "podman");
const podRootfs = join(tmp, "podman-rootfs");
const env = { ...process.env, BERTH_ROOT: berthRoot };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const berth = (args: string[]) => must(process.execPath, [bin, ...args], env);
const podmanGlobal = ["--root", join(podRoot, "storage"), "--runroot", join(podRoot, "run"), "--tmpdir", join(podRoot, "tmp"), "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", "runc"];
const podman = (args: string[]) => must("podman", [...podmanGlobal, ...args]);

const berthRun = async () => (await berth(["run", "-d", "--network", "none", "busybox", "sleep", "1000"])).trim();
const berthRm = (ids: string[]) => berth(["rm", "-f", ...ids]);
const podmanRun = async () =>
  (await podman(["run", "-d", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--rootfs", podRootfs, "sleep", "1000"])).trim();
const podmanRm = (ids: string[]) => podman(["rm", "-f", "-t", "0", ...ids]);

/** Starts `count` containers, `width` at a time, so a big count does not fork-bomb 2 cores. */
async function startMany(start: () => Promise<string>, count: number, width: number): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < count) ids.push(...(await Promise.all(Array.from({ length: Math.min(width, count - ids.length) }, start))));
  return ids;
}
/** Removes containers with one `rm -f` each, all at once (the way a burst removes them). */
const removeAll = (rm: (ids: string[]) => Promise<string>, ids: string[]) => Promise.all(ids.map((id) => rm([id])));

/** Waits until the processes of this run stop changing (berth refills its warm service about a second after a take). */
async function settle(): Promise<void> {
  let last = "";
  for (let i = 0; i < 20; i++) {
    await sleep(500);
    const now = [...snapshot().values()].filter((p) => p.cmdline.includes(tmp)).map((p) => p.pid).sort().join(",");
    if (i >= 2 && now === last) return;
    last = now;
  }
}

interface Kept {
  count: number;
  procs: Proc[];
  pssKb: number;
  ignored: Proc[];
}

/** Phase 1 for one runtime: the process-table diff around `count` running containers. */
async function measureKept(start: () => Promise<string>, rm: (ids: string[]) => Promise<string>, count: number, hostNs: string, daemonPid?: number): Promise<Kept & { ids: string[] }> {
  await settle();
  const before = snapshot();
  const ids = await startMany(start, count, 5);
  live.push(...ids.map((id) => ({ id, rm })));
  await settle();
  const { kept, ignored } = keptProcesses(before, snapshot(), hostNs, tmp, daemonPid);
  const pss = kept.reduce((sum, p) => sum + pssKb(p.pid), 0);
  return { count, procs: kept, pssKb: pss, ignored, ids };
}

async function removeTracked(ids: string[]): Promise<void> {
  const rms = live.filter((c) => ids.includes(c.id));
  await Promise.all(rms.map((c) => c.rm([c.id])));
  live = live.filter((c) => !ids.includes(c.id));
}

const wall = async (fn: () => Promise<unknown>) => {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

/** One burst: B parallel run -d, then B parallel rm -f; wall times in ms. */
async function burstOnce(start: () => Promise<string>, rm: (ids: string[]) => Promise<string>): Promise<[number, number]> {
  await settle();
  let ids: string[] = [];
  const up = await wall(async () => (ids = await Promise.all(Array.from({ length: burst }, start))));
  live.push(...ids.map((id) => ({ id, rm })));
  const down = await wall(() => removeAll(rm, ids));
  live = live.filter((c) => !ids.includes(c.id));
  return [up, down];
}

// ---- lifecycle and cleanup ----

let daemon: ChildProcess | undefined;
let live: { id: string; rm: (ids: string[]) => Promise<string> }[] = [];

async function startDaemon(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, "daemon", "--root", berthRoot, "--default-network", "none"], { stdio: ["ignore", "pipe", "pipe"], env });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const take = (d: Buffer) => {
      out += d;
      if (out.includes("serving")) resolve();
    };
    child.stdout!.on("data", take);
    child.stderr!.on("data", take);
    child.once("exit", (code) => reject(new Error(`the daemon exited ${code}: ${out}`)));
  });
  return child;
}

/** Removes every container, stops the daemon, unmounts what podman mounted and deletes the temp root; safe to call twice. */
async function cleanup(): Promise<void> {
  await Promise.all(live.map((c) => c.rm([c.id]).catch(() => {})));
  live = [];
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
    const ids = (await run(process.execPath, [bin, "ls", "-a", "-q"], env)).stdout.split("\n").filter(Boolean);
    if (ids.length) await run(process.execPath, [bin, "rm", "-f", ...ids], env);
    const exited = new Promise((r) => daemon!.once("exit", r));
    daemon.kill("SIGTERM");
    await exited;
  }
  if (fs.existsSync(podRoot)) await run("podman", [...podmanGlobal, "rm", "-f", "-t", "0", "-a"]);
  const runcRoot = join(berthRoot, "runc");
  for (const id of spawnSync("runc", ["--root", runcRoot, "list", "-q"], { encoding: "utf8" }).stdout?.split("\n").filter(Boolean) ?? []) {
    spawnSync("runc", ["--root", runcRoot, "delete", "-f", id]);
  }
  // Whatever still names our temp root was started by this run (a service, runc, conmon): end it by pid.
  for (const p of snapshot().values()) {
    if (!p.cmdline.includes(tmp) || p.pid === process.pid) continue;
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4]).filter((m): m is string => !!m && m.startsWith(tmp));
  for (const m of mounts.reverse()) spawnSync("umount", ["-l", m]);
  fs.rmSync(tmp, { recursive: true, force: true });
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => void cleanup().finally(() => process.exit(130)));
}

// ---- the run ----

const mb = (kb: number) => kb / 1024;
const ratio = (a: number, b: number, target: number) => `${(a / b).toFixed(2)}x (target <= ${target}x)${a / b <= target ? "" : "  MISSED"}`;

try {
  buildDist();
  daemon = await startDaemon();
  const daemonNs = pidNamespace(daemon.pid!)!;
  await berth(["run", "--rm", "--network", "none", "busybox", "/bin/true"]); // builds the busybox image; not measured
  fs.cpSync(join(berthRoot, "images", "busybox", "rootfs"), podRootfs, { recursive: true, verbatimSymlinks: true });
  const idleRss = rssKb(daemon.pid!);

  // Phase 1a: berth alone.
  const b = await measureKept(berthRun, berthRm, N, daemonNs, daemon.pid);
  await removeTracked(b.ids);
  // Phase 1b: podman alone. One shared rootfs copy: podman 4.3 runs many containers on it (checked).
  await podman(["run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--rootfs", podRootfs, "/bin/true"]); // warm-up
  const p = await measureKept(podmanRun, podmanRm, N, pidNamespace("self")!);
  await removeTracked(p.ids);

  // Phase 2: interleaved bursts.
  const s = { bRun: [] as number[], bRm: [] as number[], pRun: [] as number[], pRm: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    const [br, brm] = await burstOnce(berthRun, berthRm);
    const [pr, prm] = await burstOnce(podmanRun, podmanRm);
    s.bRun.push(br), s.bRm.push(brm), s.pRun.push(pr), s.pRm.push(prm);
    console.log(`round ${i + 1}/${rounds}: berth run ${br.toFixed(0)} rm ${brm.toFixed(0)} ms; podman run ${pr.toFixed(0)} rm ${prm.toFixed(0)} ms`);
  }

  // Phase 3: the daemon with 100 running containers.
  let at100: Kept | undefined;
  let rssAt100 = 0;
  if (rss100) {
    const k = await measureKept(berthRun, berthRm, 100, daemonNs, daemon.pid);
    rssAt100 = rssKb(daemon.pid!);
    at100 = k;
    await removeTracked(k.ids);
  }

  const perB = mb(b.pssKb) / N;
  const perP = mb(p.pssKb) / N;
  const rows: [string, string][] = [
    [`berth kept processes (${N} containers)`, `${b.procs.length}: ${names(b.procs)}`],
    ["berth PSS kept, total / per container", `${fmt(mb(b.pssKb))} MB / ${fmt(perB, 3)} MB (target <= 1.0 MB)${perB <= 1 ? "" : "  MISSED"}`],
    [`podman kept processes (${N} containers)`, `${p.procs.length}: ${names(p.procs)}`],
    ["podman PSS kept, total / per container", `${fmt(mb(p.pssKb))} MB / ${fmt(perP, 3)} MB`],
    ["PSS per container, berth / podman", ratio(perB, perP, 1.25)],
    [`burst ${burst} x run -d, berth / podman`, `${median(s.bRun).toFixed(0)} / ${median(s.pRun).toFixed(0)} ms = ${ratio(median(s.bRun), median(s.pRun), 1)}`],
    [`burst ${burst} x rm -f, berth / podman`, `${median(s.bRm).toFixed(0)} / ${median(s.pRm).toFixed(0)} ms = ${ratio(median(s.bRm), median(s.pRm), 1)}`],
    ["daemon VmRSS, idle", `${fmt(mb(idleRss), 1)} MB`],
  ];
  if (at100) {
    rows.push(
      ["daemon VmRSS, 100 running containers", `${fmt(mb(rssAt100), 1)} MB (target <= 120 MB)${mb(rssAt100) <= 120 ? "" : "  MISSED"}`],
      ["berth PSS kept per container at 100", `${fmt(mb(at100.pssKb) / 100, 3)} MB (${at100.procs.length} processes: ${names(at100.procs)})`],
    );
  } else rows.push(["daemon VmRSS, 100 running containers", "skipped (--no-rss100)"]);
  const ignored = [...b.ignored, ...p.ignored, ...(at100?.ignored ?? [])];
  if (ignored.length) rows.push(["new host processes not ours (ignored)", ignored.map((q) => `${q.pid} ${q.cmdline.slice(0, 60)}`).join("; ")]);
  report(`berth vs podman at scale: ${N} sleep containers, ${rounds} interleaved burst rounds of ${burst}, medians`, rows);
} finally {
  await cleanup();
}
