// `berth pull` of a fixed image from a local registry (download, verify, unpack), against
// `skopeo copy docker://… oci:DIR` + `umoci unpack`, and against `podman pull`, when installed:
// medians of interleaved cold pulls, every store wiped between pulls. Then the RSS growth of
// the berth processes (the daemon and the CLI) during a pull of one 300 MB layer: the first
// pull of a new daemon, and a later one. The CLI runs
// as `berth` does: bin/berth.js through its shebang, with its V8 flags, and so does the daemon
// (`berth daemon`).
// Targets: <= 1.0x skopeo+umoci, <= 1.0x podman pull, RSS growth <= 64 MB.
// Run: node --import tsx bench/pull.ts [runs]
//
// The image (built here with umoci from directories, pushed with skopeo): about 60 MB
// compressed in 3 layers: a busybox-like tree of 5,000 small files, one 40 MB incompressible
// file, and a text-heavy layer.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { busyboxTree, push, startRegistry } from "../test/helpers/registry.js";
import { buildDist, median, report, startDaemon } from "./common.js";

const runs = Number(process.argv[2] ?? 5);
const repo = fileURLToPath(new URL("..", import.meta.url));
const bin = join(repo, "bin", "berth.js");
const work = fs.mkdtempSync(join(os.tmpdir(), "bpull-bench-"));
const root = join(work, "root");
const env = { ...process.env, BERTH_ROOT: root };

/** Waits for the deletions and writes before to reach the disk, so the next measurement does not pay for them. */
function settle(): void {
  spawnSync("sync");
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

const time = (fn: () => void): number => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): void {
  const r = spawnSync(cmd, args, { env: opts.env ?? process.env, stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
}

/** A layer per directory, added with `umoci insert` in order; returns the layout's tag. */
function buildLayered(layout: string, tag: string, layers: string[]): void {
  if (!fs.existsSync(join(layout, "index.json"))) execFileSync("umoci", ["init", "--layout", layout]);
  execFileSync("umoci", ["new", "--image", `${layout}:${tag}`]);
  for (const dir of layers) execFileSync("umoci", ["insert", "--image", `${layout}:${tag}`, dir, "/"]);
  execFileSync("umoci", ["config", "--image", `${layout}:${tag}`, "--config.cmd", "sh"]);
}

const WORDS = "the quick brown fox jumps over a lazy dog while container runtimes journal every event they see and registries serve layers by digest".split(" ");

function fixedImage(layout: string): void {
  const small = busyboxTree(work, {}, "small");
  for (let i = 0; i < 5000; i++) {
    const dir = join(small, "usr", "share", "files", String(i % 50));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(join(dir, `f${i}.txt`), randomBytes(64 + (i % 900)).toString("base64"));
  }
  const big = join(work, "big");
  fs.mkdirSync(join(big, "opt"), { recursive: true });
  fs.writeFileSync(join(big, "opt", "blob.bin"), randomBytes(40 * 1024 * 1024));
  const text = join(work, "text");
  fs.mkdirSync(join(text, "usr", "share", "doc"), { recursive: true });
  let seed = 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let f = 0; f < 40; f++) {
    const parts: string[] = [];
    for (let i = 0; i < 180_000; i++) parts.push(WORDS[rand() % WORDS.length]!, rand() % 13 === 0 ? `${rand() % 100000}\n` : "");
    fs.writeFileSync(join(text, "usr", "share", "doc", `doc${f}.txt`), parts.join(" "));
  }
  buildLayered(layout, "fixed", [small, big, text]);
}

function bigImage(layout: string): void {
  const dir = join(work, "huge");
  fs.mkdirSync(join(dir, "opt"), { recursive: true });
  const fd = fs.openSync(join(dir, "opt", "huge.bin"), "w");
  for (let i = 0; i < 300; i++) fs.writeSync(fd, randomBytes(1024 * 1024));
  fs.closeSync(fd);
  buildLayered(layout, "huge", [dir]);
}

/** Summed VmRSS (kB) of these pids, skipping any already gone. */
function rssKb(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      total += Number(m?.[1] ?? 0);
    } catch {
      // exited
    }
  }
  return total;
}

interface RssGrowth {
  daemonKb: number;
  cliKb: number;
  sumKb: number;
}

/** The growth of the daemon's VmRSS, the CLI's peak and their summed peak over the baseline, sampled every 10 ms during one pull. */
async function pullRss(daemonPid: number, ref: string, cliEnv: NodeJS.ProcessEnv): Promise<RssGrowth> {
  const baseline = rssKb([daemonPid]);
  const cli = spawn(bin, ["pull", "-q", ref], { env: cliEnv, stdio: "ignore" });
  let peakSum = baseline;
  let peakDaemon = baseline;
  let peakCli = 0;
  const sampler = setInterval(() => {
    const d = rssKb([daemonPid]);
    const c = rssKb([cli.pid!]);
    peakDaemon = Math.max(peakDaemon, d);
    peakCli = Math.max(peakCli, c);
    peakSum = Math.max(peakSum, d + c);
  }, 10);
  const code = await new Promise<number | null>((resolve) => cli.once("exit", resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`berth pull of ${ref} exited ${code}`);
  return { daemonKb: peakDaemon - baseline, cliKb: peakCli, sumKb: peakSum - baseline };
}

buildDist();
const registry = await startRegistry();
const daemon = await startDaemon(bin, root, "none", { asCommand: true });
try {
  const layout = join(work, "oci");
  fixedImage(layout);
  const ref = `${registry.host}/bench/fixed:1`;
  push(layout, "fixed", ref);
  const sizes = JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${ref}`], { encoding: "utf8" })) as { layers: { size: number }[] };
  const compressed = sizes.layers.reduce((n, l) => n + l.size, 0);

  const podman = spawnSync("sh", ["-c", "command -v podman"], { stdio: "ignore" }).status === 0;
  const podRoot = join(work, "podman");
  const podmanArgs = ["--root", join(podRoot, "storage"), "--runroot", join(podRoot, "run"), "--tmpdir", join(podRoot, "tmp"), "--cgroup-manager", "cgroupfs", "--events-backend", "file"];
  const samples = { berth: [] as number[], skopeo: [] as number[], podman: [] as number[] };
  const wipe = () => {
    fs.rmSync(join(root, "images"), { recursive: true, force: true });
    fs.rmSync(join(work, "skopeo"), { recursive: true, force: true });
    fs.rmSync(join(work, "bundle"), { recursive: true, force: true });
    if (podman) {
      spawnSync("podman", [...podmanArgs, "system", "reset", "-f"], { stdio: "ignore" });
      fs.rmSync(podRoot, { recursive: true, force: true });
    }
    settle();
  };
  const contenders: [keyof typeof samples, () => void][] = [
    ["berth", () => run(bin, ["pull", "-q", ref], { env })],
    ["skopeo", () => {
      run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `oci:${join(work, "skopeo")}:fixed`]);
      run("umoci", ["unpack", "--image", `${join(work, "skopeo")}:fixed`, join(work, "bundle")]);
    }],
    ...(podman ? [["podman", () => run("podman", [...podmanArgs, "pull", "-q", "--tls-verify=false", ref])] as [keyof typeof samples, () => void]] : []),
  ];
  // Each pull starts on a wiped, settled disk, and the order turns each round: on this host's
  // ext4 (mounted with online discard) the trims of a just-deleted tree stall the next file
  // creations for seconds, which would otherwise fall on whoever comes first after the wipe.
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < contenders.length; k++) {
      const [name, pull] = contenders[(i + k) % contenders.length]!;
      wipe();
      samples[name].push(time(pull));
    }
  }
  wipe();

  // RSS: one 300 MB layer, pulled by a daemon that has pulled nothing yet (its first fetch
  // compiles the HTTP parser), then again by the same daemon with its store wiped.
  bigImage(layout);
  const huge = `${registry.host}/bench/huge:1`;
  push(layout, "huge", huge);
  const freshRoot = join(work, "fresh-root");
  const fresh = await startDaemon(bin, freshRoot, "none", { asCommand: true });
  let first: RssGrowth, again: RssGrowth;
  try {
    first = await pullRss(fresh.pid!, huge, { ...process.env, BERTH_ROOT: freshRoot });
    fs.rmSync(join(freshRoot, "images"), { recursive: true, force: true });
    execFileSync(bin, ["image", "prune", "-a", "-f"], { env: { ...process.env, BERTH_ROOT: freshRoot }, stdio: "ignore" });
    settle();
    again = await pullRss(fresh.pid!, huge, { ...process.env, BERTH_ROOT: freshRoot });
  } finally {
    fresh.kill("SIGTERM");
    await new Promise((r) => fresh.once("exit", r));
  }

  const b = median(samples.berth);
  const s = median(samples.skopeo);
  const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
  const rows: [string, string][] = [
    ["image", `3 layers, ${(compressed / 1e6).toFixed(1)} MB compressed`],
    ["berth pull (download, verify, unpack)", `${b.toFixed(0)} ms`],
    ["skopeo copy + umoci unpack", `${s.toFixed(0)} ms`],
    ["ratio berth / skopeo+umoci", `${(b / s).toFixed(2)}x (target <= 1.0x)`],
  ];
  if (podman) {
    const p = median(samples.podman);
    rows.push(["podman pull --tls-verify=false", `${p.toFixed(0)} ms`], ["ratio berth / podman", `${(b / p).toFixed(2)}x (target <= 1.0x)`]);
  } else rows.push(["podman", "not installed: not measured"]);
  for (const [when, g] of [["first pull of a new daemon", first], ["a later pull", again]] as const) {
    rows.push(
      [`300 MB layer, ${when}: daemon RSS growth`, mb(g.daemonKb)],
      [`300 MB layer, ${when}: CLI peak RSS (all of it: a Node process)`, mb(g.cliKb)],
      [`300 MB layer, ${when}: summed growth, daemon + CLI`, `${mb(g.sumKb)} (target <= 64 MB)`],
    );
  }
  report(`berth pull from a local registry, ${runs} interleaved cold pulls, medians`, rows);
} finally {
  daemon.kill("SIGTERM");
  await new Promise((r) => daemon.once("exit", r));
  await registry.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
