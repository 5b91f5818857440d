#!/usr/bin/env -S node --max-semi-space-size=1
// The flag keeps V8's young generation at 1 MiB a half: a CLI relaying 200 MiB of output (run,
// logs) allocates a frame after a frame, and with the default 16 MiB halves its RSS grew by
// ~48 MiB of new space alone (bench/logs.ts: +47 MiB, with the flag +22 MiB, at the same speed).
// Only when run as `berth` (the shebang); `node bin/berth.js` gets node's defaults.
// The `berth` command. Runs, in order of preference:
// 1. dist/bundle/cli.mjs, the esbuild bundle (scripts/bundle.mjs): fastest to start;
// 2. dist/src/cli/main.js, the tsc build (npm run build);
// 3. the TypeScript sources through tsx, in a checkout without dist/ (slower to start).
// tsc rewrites every output, so a bundle older than dist/src/cli/main.js predates the last
// build (npm run build does not bundle) and is skipped rather than run stale.
import { statSync } from "node:fs";

const bundle = new URL("../dist/bundle/cli.mjs", import.meta.url);
const compiled = new URL("../dist/src/cli/main.js", import.meta.url);
const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs;
const bundled = mtime(bundle);
const built = mtime(compiled);
let cli;
if (bundled !== undefined && built !== undefined && bundled >= built) {
  cli = await import(bundle.href);
} else if (built !== undefined) {
  cli = await import(compiled.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import(new URL("../src/cli/main.ts", import.meta.url).href);
}
const code = await cli.main(process.argv.slice(2));
// Not process.exit: output still queued for a pipe would be lost.
if (code !== undefined) await cli.exitWhenDrained(code);
