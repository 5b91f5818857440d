// What a bridge network adds to a container's whole life (issue #16): `berth run --rm busybox
// true` on the default bridge against the same run with `--network none`, and the same pair for
// podman (`--network bridge` against `none`, of a copy of the same busybox rootfs), in the same
// run. Each round runs all four, in an order that rotates from round to round. Each CLI returns
// only after its CNI DEL (netavark's teardown for podman), the firewall cleanup and the
// namespace's removal, so the CLI is timed end to end. Medians; the added cost of a network is
// bridge − none. Target: berth's added cost <= podman's. The container sends no traffic.
// Run: node --import tsx bench/network.ts [rounds, default 12]
//
// The host is left as it was found: no bridge of this root (berth takes its bridge along with the
// last container), no podman container, and what netavark leaves behind after its last container
// (its top-level iptables chains and jumps, /run/netns's bind mount, /run/containers with its
// IPAM database, /run/runc) removed when this bench created it. The last rows say what was found and removed.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unmountUnder } from "../src/vm/hostcalls.js";
import { rootTag } from "../src/vm/paths.js";
import { buildDist, median, report, startDaemon } from "./common.js";

const rounds = Number(process.argv[2] ?? 12);
const repo = fileURLToPath(new URL("..", import.meta.url));
const bin = join(repo, "bin", "berth.js");
const root = fs.mkdtempSync(join(os.tmpdir(), "bnet-bench-"));
const env = { ...process.env, BERTH_ROOT: root };
const bridgePrefix = `bt${rootTag(root)}`;
const podRoot = join(root, "podman");
const podRootfs = join(root, "podman-rootfs");
const podmanGlobal = ["--root", join(podRoot, "storage"), "--runroot", join(podRoot, "run"), "--tmpdir", join(podRoot, "tmp"), "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", "runc"];

const time = (fn: () => void): number => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

function must(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

// The daemon's default network is the bridge, so the bridge row is the issue's command as written.
const berthBridge = () => must(process.execPath, [bin, "run", "--rm", "busybox", "true"], { env });
const berthNone = () => must(process.execPath, [bin, "run", "--rm", "--network", "none", "busybox", "true"], { env });
const podmanRun = (network: string) => () =>
  must("podman", [...podmanGlobal, "run", "--rm", "--network", network, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--rootfs", podRootfs, "true"]);

const podmanAvailable = spawnSync("sh", ["-c", "command -v podman"], { stdio: "ignore" }).status === 0;

// --- what netavark leaves on the host after its last container --------------------------------

const iptablesLines = (table: string) => spawnSync("iptables", ["-w", "-t", table, "-S"], { encoding: "utf8" }).stdout?.split("\n") ?? [];
const netavarkChains = () => ["filter", "nat"].flatMap((t) => iptablesLines(t).filter((l) => /^-N NETAVARK/.test(l)).map((l) => `${t} ${l.slice(3)}`));
const isMountPoint = (dir: string) => fs.readFileSync("/proc/self/mounts", "utf8").split("\n").some((l) => l.split(" ")[1] === dir);
const HOST_DIRS = ["/run/netns", "/run/containers", "/run/runc"];

/** What the podman rows may create on the host, before they run. */
const before = { chains: netavarkChains(), dirs: HOST_DIRS.filter((d) => fs.existsSync(d)) };

/** Removes netavark's top-level chains (with their jumps) and the run dirs, if this bench made them; what it removed. */
function removeNetavarkLeftovers(): string[] {
  const removed: string[] = [];
  if (before.chains.length === 0) {
    for (const table of ["filter", "nat"]) {
      const lines = iptablesLines(table);
      const chains = lines.filter((l) => /^-N NETAVARK/.test(l)).map((l) => l.slice(3));
      if (!chains.length) continue;
      // Another netavark network's container would still have rules in its own NETAVARK-<hash> chain: keep everything then.
      if (chains.some((c) => !/^NETAVARK(_FORWARD|-HOSTPORT-(DNAT|MASQ|SETMARK))$/.test(c))) continue;
      const jumps = lines.filter((l) => /^-A (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) .*-j NETAVARK/.test(l)).map((l) => l.replace(/^-A/, "-D"));
      const input = [`*${table}`, ...jumps, ...chains.map((c) => `-F ${c}`), ...chains.map((c) => `-X ${c}`), "COMMIT", ""].join("\n");
      const r = spawnSync("iptables-restore", ["--noflush", "--wait"], { input, encoding: "utf8" });
      if (r.status === 0) removed.push(...chains.map((c) => `${table}/${c}`));
      else console.error(`could not remove netavark's ${table} chains: ${r.stderr}`);
    }
  }
  for (const dir of HOST_DIRS) {
    if (before.dirs.includes(dir) || !fs.existsSync(dir)) continue;
    if (isMountPoint(dir)) spawnSync("umount", [dir]); // netavark bind-mounts /run/netns onto itself
    // Only netavark's IPAM database (its leases were this bench's, all released) and empty
    // directories: anything else belongs to something still running.
    fs.rmSync(join(dir, "networks", "ipam.db"), { force: true });
    try {
      for (const sub of fs.readdirSync(dir)) fs.rmdirSync(join(dir, sub));
      fs.rmdirSync(dir);
      removed.push(dir);
    } catch {
      console.error(`kept ${dir}: not empty`);
    }
  }
  return removed;
}

// --- the run ------------------------------------------------------------------------------------

buildDist();
const daemon = await startDaemon(bin, root, "bridge");
try {
  berthNone(); // builds the busybox image; not measured
  berthBridge(); // creates the default network (journal, conflist); not measured
  const backend = podmanAvailable ? must("podman", [...podmanGlobal, "info", "--format", "{{.Host.NetworkBackend}}"]).trim() : "";
  if (podmanAvailable) {
    fs.cpSync(join(root, "images", "busybox", "rootfs"), podRootfs, { recursive: true, verbatimSymlinks: true });
    podmanRun("none")(); // warm-ups
    podmanRun("bridge")();
  }

  const variants: [string, () => unknown][] = [["berth bridge", berthBridge], ["berth none", berthNone]];
  if (podmanAvailable) variants.push(["podman bridge", podmanRun("bridge")], ["podman none", podmanRun("none")]);
  const samples = new Map(variants.map(([name]) => [name, [] as number[]]));
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < variants.length; k++) {
      const [name, fn] = variants[(i + k) % variants.length]!;
      // The daemon refills its warm runtime service a second after each take: every run meets
      // berth in its steady state, and every variant an idle host.
      await new Promise((r) => setTimeout(r, 2000));
      samples.get(name)!.push(time(fn));
    }
    console.log(`round ${i + 1}/${rounds}: ${variants.map(([name]) => `${name} ${samples.get(name)!.at(-1)!.toFixed(0)}`).join(", ")} ms`);
  }

  const m = (name: string) => median(samples.get(name)!);
  const perRound = (a: string, b: string) => median(samples.get(a)!.map((x, i) => x - samples.get(b)![i]!));
  const berthAdded = m("berth bridge") - m("berth none");
  const rows: [string, string][] = [
    ["berth run --rm busybox true (default bridge)", `${m("berth bridge").toFixed(1)} ms`],
    ["berth run --rm --network none busybox true", `${m("berth none").toFixed(1)} ms`],
    ["berth added cost (bridge − none)", `${berthAdded.toFixed(1)} ms (median of per-round differences ${perRound("berth bridge", "berth none").toFixed(1)} ms)`],
  ];
  if (podmanAvailable) {
    const podmanAdded = m("podman bridge") - m("podman none");
    rows.push(
      ["podman network backend", backend],
      ["podman run --rm --network bridge … true", `${m("podman bridge").toFixed(1)} ms`],
      ["podman run --rm --network none … true", `${m("podman none").toFixed(1)} ms`],
      ["podman added cost (bridge − none)", `${podmanAdded.toFixed(1)} ms (median of per-round differences ${perRound("podman bridge", "podman none").toFixed(1)} ms)`],
      ["ratio berth added / podman added", `${(berthAdded / podmanAdded).toFixed(2)}x (target <= 1)`],
    );
  } else rows.push(["podman", "not installed: not measured"]);
  report(`a bridge network's cost over a container's life, ${rounds} interleaved rounds, medians`, rows);
} finally {
  if (fs.existsSync(podRoot)) spawnSync("podman", [...podmanGlobal, "rm", "-f", "-t", "0", "-a"], { stdio: "ignore" });
  const podmanLeft = fs.existsSync(podRoot) ? spawnSync("podman", [...podmanGlobal, "ps", "-aq"], { encoding: "utf8" }).stdout.trim() : "";
  daemon.kill("SIGTERM");
  await new Promise((r) => daemon.once("exit", r));
  unmountUnder(root); // podman's overlay storage stays mounted after its last container
  fs.rmSync(root, { recursive: true, force: true });
  const removed = podmanAvailable ? removeNetavarkLeftovers() : [];
  const bridges = fs.readdirSync("/sys/class/net").filter((n) => n.startsWith(bridgePrefix));
  report("host afterwards", [
    [`bridges of this root (${bridgePrefix}*)`, bridges.length ? `LEFT: ${bridges.join(", ")}` : "none"],
    ["podman containers", podmanLeft ? `LEFT: ${podmanLeft.split("\n").join(", ")}` : "none"],
    ["netavark's leftovers, removed", removed.length ? removed.join(", ") : "none"],
  ]);
}
