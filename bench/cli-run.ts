// `berth run --rm busybox /bin/true` through the real CLI (bundled, against a compiled daemon
// with the runc driver), against raw `runc run` of the same rootfs, and against
// `podman run --rm --rootfs` when podman is installed: interleaved in the same run, medians.
// Target: <= 1.5x raw runc, and faster than podman.  Run: node --import tsx bench/cli-run.ts [runs]
//
// Two more rows say what a Node CLI can reach at best on this host: a bare `node -e 0` and
// `berth --version`, spawned exactly like `berth run`. The floor, (node -e 0 + runc run) / runc
// run, is the ratio of a CLI that cost nothing beyond starting Node and a daemon that cost
// nothing beyond runc.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildDist, median, report, startDaemon } from "./common.js";

const runs = Number(process.argv[2] ?? 15);
const repo = fileURLToPath(new URL("..", import.meta.url));
const bin = join(repo, "bin", "berth.js");
const root = fs.mkdtempSync(join(os.tmpdir(), "bcli-bench-"));
const env = { ...process.env, BERTH_ROOT: root };

const time = (fn: () => void): number => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

/** Runs `node ARGS` the way every berth row is run, and fails on a non-zero exit. */
function node(args: string[]): void {
  const r = spawnSync(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
}

// --network none is berth's default today; said explicitly so both sides stay alike if it changes.
const berthRun = () => node([bin, "run", "--rm", "--network", "none", "busybox", "/bin/true"]);

/** A runc bundle whose rootfs is a copy of berth's busybox image. */
function rawBundle(): string {
  const bundle = join(root, "raw-bundle");
  fs.mkdirSync(bundle);
  fs.cpSync(join(root, "images", "busybox", "rootfs"), join(bundle, "rootfs"), { recursive: true, verbatimSymlinks: true });
  execFileSync("runc", ["spec"], { cwd: bundle });
  const spec = JSON.parse(fs.readFileSync(join(bundle, "config.json"), "utf8"));
  spec.process.args = ["/bin/true"];
  spec.process.terminal = false;
  spec.root = { path: join(bundle, "rootfs"), readonly: true };
  fs.writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
  return bundle;
}

function podmanAvailable(): boolean {
  return spawnSync("sh", ["-c", "command -v podman"], { stdio: "ignore" }).status === 0;
}

function podmanRun(podRoot: string, rootfs: string): void {
  const r = spawnSync("podman", [
    "--root", join(podRoot, "storage"), "--runroot", join(podRoot, "run"), "--tmpdir", join(podRoot, "tmp"), "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", "runc",
    "run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--rootfs", rootfs, "/bin/true",
  ], { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`podman run exited ${r.status}: ${r.stderr}`);
}

buildDist();
const daemon = await startDaemon(bin, root);
try {
  berthRun(); // builds the busybox image; not measured
  const bundle = rawBundle();
  const podman = podmanAvailable();
  const podRoot = join(root, "podman");
  const podRootfs = join(root, "podman-rootfs");
  if (podman) fs.cpSync(join(bundle, "rootfs"), podRootfs, { recursive: true, verbatimSymlinks: true });
  if (podman) podmanRun(podRoot, podRootfs); // warm-up

  const samples = { berth: [] as number[], runc: [] as number[], podman: [] as number[], node: [] as number[], version: [] as number[] };
  for (let i = 0; i < runs; i++) {
    samples.node.push(time(() => node(["-e", "0"])));
    samples.version.push(time(() => node([bin, "--version"])));
    // The daemon refills its warm runtime service a second after each take; give it time, so
    // every berth run meets the daemon in its steady state (a warm service ready).
    await new Promise((r) => setTimeout(r, 2000));
    samples.berth.push(time(berthRun));
    samples.runc.push(time(() => {
      const r = spawnSync("runc", ["--root", join(root, "raw-runc"), "run", "--bundle", bundle, `raw${i}`], { stdio: "ignore" });
      if (r.status !== 0) throw new Error(`runc run exited ${r.status}`);
    }));
    if (podman) samples.podman.push(time(() => podmanRun(podRoot, podRootfs)));
  }
  const b = median(samples.berth);
  const r = median(samples.runc);
  const n = median(samples.node);
  const v = median(samples.version);
  const rows: [string, string][] = [
    ["berth run --rm busybox /bin/true (CLI)", `${b.toFixed(1)} ms`],
    ["runc run /bin/true (raw)", `${r.toFixed(1)} ms`],
    ["ratio berth / runc", `${(b / r).toFixed(2)}x (target <= 1.5x)`],
    ["node -e 0 (bare Node start, same spawn)", `${n.toFixed(1)} ms`],
    ["berth --version (CLI start)", `${v.toFixed(1)} ms (+${(v - n).toFixed(1)} ms over node -e 0)`],
    ["floor (node -e 0 + runc) / runc", `${((n + r) / r).toFixed(2)}x (the best a Node CLI can do here)`],
  ];
  if (podman) {
    const p = median(samples.podman);
    rows.push(["podman run --rm --rootfs /bin/true", `${p.toFixed(1)} ms`], ["ratio berth / podman", `${(b / p).toFixed(2)}x (target < 1)`]);
  } else rows.push(["podman", "not installed: not measured"]);
  report(`berth run through the CLI, ${runs} interleaved runs, medians`, rows);
} finally {
  daemon.kill("SIGTERM");
  await new Promise((r) => daemon.once("exit", r));
  spawnSync("sh", ["-c", `for c in $(runc --root ${join(root, "raw-runc")} list -q 2>/dev/null); do runc --root ${join(root, "raw-runc")} delete -f $c; done`]);
  fs.rmSync(root, { recursive: true, force: true });
}
