// Boot → start → exit → teardown of /bin/true through a runtime service, against a raw
// `runc run` of the same bundle, measured in the same run (interleaved, medians), plus the
// runtime service's RSS. Run: node --import tsx bench/run.ts [runs]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { validateConfig } from "../src/commands/config.js";
import { containerPaths, probeRuntime, runcRoot, startRuntimeService } from "../src/vm/runtime.js";
import { ServiceClient } from "../src/vm/service-client.js";

const runs = Number(process.argv[2] ?? 15);
const root = fs.mkdtempSync(join(os.tmpdir(), "bvm-bench-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Bundles the service entry into one file with esbuild (a tsx dependency), so no tsx at run time. */
async function bundleService(): Promise<string | null> {
  try {
    const esbuild = (await import("esbuild")) as typeof import("esbuild");
    const out = join(root, "service.mjs");
    await esbuild.build({
      entryPoints: [fileURLToPath(new URL("../src/vm/service/main.ts", import.meta.url))],
      bundle: true, platform: "node", format: "esm", target: "node20", outfile: out,
      external: ["msgpackr-extract"],
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    return out;
  } catch (err) {
    console.error(`esbuild bundle unavailable (${(err as Error).message}); the service runs through tsx`);
    return null;
  }
}

const config = validateConfig({ init: { args: ["/bin/true"] }, network: "none" }, "b");
if (!config.ok) throw new Error(config.error.message);
const cfg = config.value;

async function berthOnce(i: number): Promise<{ ms: number; rssKb: number }> {
  const id = `b${i}`;
  const t0 = process.hrtime.bigint();
  const ep = await startRuntimeService({ root, id, config: cfg });
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${ep.pid}/status`, "utf8"))?.[1] ?? 0);
  const c = await ServiceClient.connect(ep.socket);
  await c.startProcess(id);
  const exit = await c.wait(id);
  if (exit.exitCode !== 0) throw new Error(`/bin/true exited ${exit.exitCode}`);
  await c.shutdown();
  c.close();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  while (probeRuntime(root, id).alive) await new Promise((r) => setTimeout(r, 5));
  return { ms, rssKb };
}

function rawOnce(bundle: string, i: number): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync("runc", ["--root", join(root, "raw-runc"), "run", "--bundle", bundle, `raw${i}`], { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`raw runc run failed (${r.status})`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const entry = await bundleService();
if (entry) {
  process.env.BERTH_SERVICE_ENTRY = entry;
  process.env.BERTH_PEERCRED_ADDON = fileURLToPath(new URL("../native/peercred/build/Release/peercred.node", import.meta.url));
}
try {
  await berthOnce(0); // builds the busybox image; not measured
  const bundle = containerPaths(root, "b0").bundle;
  const berth: number[] = [];
  const raw: number[] = [];
  const rss: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const b = await berthOnce(i);
    berth.push(b.ms);
    rss.push(b.rssKb);
    raw.push(rawOnce(bundle, i));
  }
  const ratio = median(berth) / median(raw);
  console.log(`service entry: ${entry ? "esbuild bundle (plain node)" : "tsx"}`);
  console.log(`berth boot→start→exit→teardown: median ${median(berth).toFixed(1)} ms over ${runs} runs`);
  console.log(`raw runc run /bin/true:          median ${median(raw).toFixed(1)} ms`);
  console.log(`ratio: ${ratio.toFixed(2)}x (target <= 1.5x)`);
  console.log(`runtime service RSS: median ${(median(rss) / 1024).toFixed(1)} MB (target <= 45 MB)`);
} finally {
  spawnSync("runc", ["--root", runcRoot(root), "list"], { stdio: "ignore" });
  fs.rmSync(root, { recursive: true, force: true });
}
