// Small helpers shared by the benchmarks: medians, a readable report, and a fresh build.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("..", import.meta.url));

/** Builds dist/ (tsc) and dist/bundle/ (scripts/bundle.mjs) from the current sources, so a bench never measures stale code. */
export function buildDist(): void {
  for (const [what, cmd, args] of [["tsc", "npx", ["tsc", "-p", "tsconfig.json"]], ["bundle", process.execPath, [join(repo, "scripts", "bundle.mjs")]]] as const) {
    const r = spawnSync(cmd, [...args], { cwd: repo, stdio: "inherit" });
    if (r.status !== 0) throw new Error(`building dist/ failed at ${what} (exit ${r.status})`);
  }
}
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

export function report(title: string, rows: [string, string | number][]): void {
  console.log(`\n${title}`);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${typeof v === "number" ? v.toLocaleString("en-US", { maximumFractionDigits: 2 }) : v}`);
}

export const fmt = (n: number, digits = 2) => n.toLocaleString("en-US", { maximumFractionDigits: digits });

/** `berth daemon --root ROOT` from the bundled CLI, resolved once it serves. */
/** `asCommand`: run as `berth daemon` is, through bin/berth.js's shebang and its V8 flags, not under a bare `node`. */
export async function startDaemon(bin: string, root: string, network = "none", opts: { asCommand?: boolean } = {}): Promise<ChildProcess> {
  // Benches not about networking run without one, so their figures do not change (bench/network.ts names it).
  const args = ["daemon", "--root", root, "--default-network", network];
  const daemon = opts.asCommand ? spawn(bin, args, { stdio: ["ignore", "pipe", "inherit"] }) : spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    daemon.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("serving")) resolve();
    });
    daemon.once("exit", (code) => reject(new Error(`the daemon exited ${code}: ${out}`)));
  });
  return daemon;
}
