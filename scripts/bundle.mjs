// Bundles the CLI with esbuild into dist/bundle/, after tsc has built
// dist/ (scripts/setup.sh runs both). Node start-up is most of a short `berth` command's cost,
// and resolving, reading and linking ~40 ESM files (commander and msgpackr included) is a
// measurable part of it; one file per entry, plus lazily loaded chunks, is not.
//
//   dist/bundle/cli.mjs      the `berth` command (bin/berth.js prefers it). Each command module
//                            (src/cli/commands/, imported lazily by its registry) is split into a
//                            chunk of its own, so `berth run` never reads the query, audit,
//                            journal or image handlers (test/cli-commands.test.ts checks it).
//
// Run: node scripts/bundle.mjs
import { build } from "esbuild";
import { renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(repo, "dist", "bundle");

// Bundled CommonJS (commander, better-sqlite3's callers) calls require() for Node's built-ins;
// an ESM bundle has no require of its own.
const banner = { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" };

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  banner,
  sourcemap: "linked",
  logLevel: "warning",
  // A native addon (better-sqlite3, loaded only by the journal commands) and msgpackr's
  // optional native string extractor cannot be inlined; they load from node_modules.
  external: ["better-sqlite3", "msgpackr-extract"],
};

/**
 * msgpackr's Node entry also loads msgpackr-extract, a native addon (~18 ms to find and load
 * here) that only speeds up decoding long strings. The CLI exchanges small
 * frames, so it takes the plain entry: same Packr, same wire format, no addon.
 */
const plainMsgpackr = {
  name: "plain-msgpackr",
  setup(b) {
    b.onResolve({ filter: /^msgpackr$/ }, () => ({ path: join(repo, "node_modules", "msgpackr", "index.js") }));
  },
};

/**
 * `berth daemon` runs the tsc-built daemon (dist/src/daemon/main.js), not a bundled copy: it
 * finds its native addons relative to its own module, and its start-up cost is paid once, not
 * per command.
 */
const daemonFromDist = {
  name: "daemon-from-dist",
  setup(b) {
    b.onResolve({ filter: /\/daemon\/main\.js$/ }, () => ({ path: "../src/daemon/main.js", external: true }));
  },
};

// Built beside the old bundle and swapped in at the end, so a running daemon or CLI never sees a
// half-written one, and stale chunks (their names carry a hash) do not pile up.
const next = `${out}.${process.pid}`;
try {
  await build({
    ...common,
    entryPoints: { cli: join(repo, "src", "cli", "main.ts") },
    outdir: next,
    outExtension: { ".js": ".mjs" },
    splitting: true,
    chunkNames: "cli-[name]-[hash]",
    plugins: [plainMsgpackr, daemonFromDist],
  });
  rmSync(out, { recursive: true, force: true });
  renameSync(next, out);
} finally {
  rmSync(next, { recursive: true, force: true });
}
