#!/usr/bin/env node
// The `berth` command. Runs the compiled CLI (npm run build); in a checkout without dist/ it
// falls back to the TypeScript sources through tsx, which is slower to start.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/src/cli/main.js", import.meta.url);
let cli;
if (existsSync(compiled)) {
  cli = await import(compiled.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import(new URL("../src/cli/main.ts", import.meta.url).href);
}
const code = await cli.main(process.argv.slice(2));
if (code !== undefined) process.exit(code);
