// Boot → start → exit → teardown of /bin/true through a runtime service, against a raw
// `runc run` of the same bundle, measured in the same run (interleaved, medians), plus the
// runtime service's RSS. The headline claims a warm service from a pool, as the daemon does;
// a cold one (spawned for the bootstrap) is measured too. Run: node --import tsx bench/run.ts [runs]
//
// Memory is in MiB (1024 × 1024 bytes), as ps, top and docker stats count it, at three moments:
// once booted; the peak (VmHWM) of a whole /bin/true lifecycle; and a service whose container
// keeps running, two seconds after its start, which is what each running container costs.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { validateConfig } from "../src/model/config.js";
import { imageRootfs } from "../src/vm/paths.js";
import { containerPaths, probeRuntime, runcRoot, ServicePool, startRuntimeService } from "../src/vm/runtime.js";
import { ServiceClient } from "../src/vm/service-client.js";
import { buildDist, median } from "./common.js";

const runs = Number(process.argv[2] ?? 15);
const root = fs.mkdtempSync(join(os.tmpdir(), "bvm-bench-"));

const config = validateConfig({ init: { args: ["/bin/true"] }, network: "none" }, "b");
if (!config.ok) throw new Error(config.error.message);
const cfg = config.value;

/** VmRSS (resident now) or VmHWM (the peak so far) of a process, in kB. */
const memOf = (pid: number, field: "VmRSS" | "VmHWM") => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

const MIB = 1024; // kB per MiB
const mib = (kb: number) => `${(kb / MIB).toFixed(1)} MiB`;

/** Memory only this process holds (Private_Clean + Private_Dirty): what one more container costs. */
function privateKb(pid: number): number {
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  return ["Private_Clean", "Private_Dirty"].reduce((sum, f) => sum + Number(new RegExp(`${f}:\\s+(\\d+)`).exec(rollup)?.[1] ?? 0), 0);
}

/** Resolves once the service of `id` has exited (it does so after its shutdown reply). */
async function serviceGone(id: string): Promise<void> {
  while (probeRuntime(root, id).alive) await new Promise((r) => setTimeout(r, 5));
}

async function berthOnce(id: string, pool?: ServicePool): Promise<{ ms: number; rssKb: number; peakKb: number; privKb: number }> {
  // The pool refills a second after each take; wait for it so every run starts the same way.
  await pool?.ready();
  const t0 = process.hrtime.bigint();
  const ep = await startRuntimeService({ root, id, config: cfg, ...(pool ? { pool } : {}) });
  const rssKb = memOf(ep.pid, "VmRSS");
  const c = await ServiceClient.connect(ep.socket);
  await c.startProcess(id);
  const exit = await c.wait(id);
  if (exit.exitCode !== 0) throw new Error(`/bin/true exited ${exit.exitCode}`);
  const peakKb = memOf(ep.pid, "VmHWM"); // after init ran: spawning it touches more of node
  const privKb = privateKb(ep.pid);
  await c.shutdown();
  c.close();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await serviceGone(id);
  return { ms, rssKb, peakKb, privKb };
}

/** RSS and private memory of a warm service whose container runs `sleep`, once it has settled. */
async function runningOnce(id: string, pool: ServicePool): Promise<{ rssKb: number; privKb: number }> {
  await pool.ready();
  const sleeper = validateConfig({ init: { args: ["/bin/sleep", "60"] }, network: "none" }, id);
  if (!sleeper.ok) throw new Error(sleeper.error.message);
  const ep = await startRuntimeService({ root, id, config: sleeper.value, pool });
  const c = await ServiceClient.connect(ep.socket);
  try {
    await c.startProcess(id);
    await new Promise((r) => setTimeout(r, 2000));
    return { rssKb: memOf(ep.pid, "VmRSS"), privKb: privateKb(ep.pid) };
  } finally {
    await c.kill(id, "SIGKILL");
    await c.wait(id);
    await c.shutdown();
    c.close();
    await serviceGone(id);
  }
}

/** The same config.json as berth's container, over a plain copy of the image (berth's overlay is gone after teardown). */
function rawBundle(berthBundle: string): string {
  const bundle = join(root, "raw-bundle");
  fs.mkdirSync(bundle);
  fs.cpSync(imageRootfs(root, "busybox"), join(bundle, "rootfs"), { recursive: true, verbatimSymlinks: true });
  const spec = JSON.parse(fs.readFileSync(join(berthBundle, "config.json"), "utf8"));
  spec.root.path = join(bundle, "rootfs");
  // berth's cgroup for b0 is gone; each raw run gets its own.
  delete spec.linux.cgroupsPath;
  fs.writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
  return bundle;
}

function rawOnce(bundle: string, i: number): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync("runc", ["--root", join(root, "raw-runc"), "run", "--bundle", bundle, `raw${i}`], { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`raw runc run failed (${r.status})`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

// The service runs as the daemon runs it: the bundle in dist/bundle/, on plain node.
buildDist();
process.env.BERTH_SERVICE_ENTRY = fileURLToPath(new URL("../dist/bundle/service.cjs", import.meta.url));
const pool = new ServicePool(root, 1);
try {
  await berthOnce("b0"); // builds the busybox image; not measured
  pool.fill();
  const bundle = rawBundle(containerPaths(root, "b0").bundle);
  const warm: number[] = [], cold: number[] = [], raw: number[] = [], rss: number[] = [], peak: number[] = [], priv: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const w = await berthOnce(`w${i}`, pool);
    warm.push(w.ms);
    rss.push(w.rssKb);
    peak.push(w.peakKb);
    priv.push(w.privKb);
    raw.push(rawOnce(bundle, i));
    cold.push((await berthOnce(`c${i}`)).ms);
  }
  const running: number[] = [], runningPriv: number[] = [];
  for (let i = 1; i <= 3; i++) {
    const r = await runningOnce(`s${i}`, pool);
    running.push(r.rssKb);
    runningPriv.push(r.privKb);
  }
  if (pool.size === 0) console.log("no warm pool (the hostcalls addon is missing): both berth rows are cold");
  console.log(`service entry: dist/bundle/service.cjs; ${runs} interleaved runs, medians`);
  console.log(`berth boot→start→exit→teardown, warm service: ${median(warm).toFixed(1)} ms`);
  console.log(`berth boot→start→exit→teardown, cold service: ${median(cold).toFixed(1)} ms`);
  console.log(`raw runc run /bin/true:                       ${median(raw).toFixed(1)} ms`);
  console.log(`ratio warm / raw: ${(median(warm) / median(raw)).toFixed(2)}x (target <= 1.5x)`);
  console.log(`ratio cold / raw: ${(median(cold) / median(raw)).toFixed(2)}x`);
  console.log(`runtime service RSS (target <= 45 MB per container), medians:`);
  console.log(`  once booted:                          ${mib(median(rss))}`);
  console.log(`  peak (VmHWM) over a /bin/true run:    ${mib(median(peak))}`);
  console.log(`  container running, 2 s after start:   ${mib(median(running))}`);
  console.log(`private memory (not shared with other node processes), medians:`);
  console.log(`  after /bin/true ran:                  ${mib(median(priv))}`);
  console.log(`  container running, 2 s after start:   ${mib(median(runningPriv))}`);
} finally {
  pool.close();
  spawnSync("runc", ["--root", runcRoot(root), "list"], { stdio: "ignore" });
  fs.rmSync(root, { recursive: true, force: true });
}
