// The public API is a package: a scratch project depends on this checkout through `file:`,
// installed offline with no install scripts (so nothing is fetched or rebuilt), and runs the
// README's program against a real daemon. Its types are real, and the client entry point's
// module graph holds msgpackr, never better-sqlite3.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tempRoot, withDaemon } from "./helpers/daemon.js";
import { repo } from "./helpers/cli-env.js";
import { socketPath } from "../src/host/root-layout.js";

const run = promisify(execFile);
const pkg = JSON.parse(fs.readFileSync(join(repo, "package.json"), "utf8")) as { name: string; version: string };

/** The ```js block of the README's "From a program" section. */
function readmeProgram(): string {
  const readme = fs.readFileSync(join(repo, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## From a program"));
  const block = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(block, "the README has a program in its From a program section");
  return block![1]!;
}

/** A scratch project that depends on the checkout by `file:`, installed offline. */
async function scratchProject(): Promise<string> {
  const dir = fs.mkdtempSync(join(os.tmpdir(), "berth-scratch-"));
  fs.writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module", dependencies: { [pkg.name]: `file:${repo}` } }));
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: dir });
  return dir;
}

test("a scratch project imports berth by name and runs the README's program against a real daemon", () =>
  // The daemon starts after the scratch project is written, as before; withDaemon removes the
  // root even when the install fails (it used to be left behind, empty).
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    const dir = await scratchProject();
    try {
      assert.ok(fs.lstatSync(join(dir, "node_modules", pkg.name)).isSymbolicLink(), "file: links the checkout instead of copying or rebuilding it");
      fs.writeFileSync(join(dir, "program.mjs"), readmeProgram());
      await daemon.restart();
      const { stdout } = await run(process.execPath, ["program.mjs"], { cwd: dir, env: { ...process.env, BERTH_SOCKET: socketPath(root) } });
      assert.is(stdout.trim(), "3 stopped");
      const gone = await (await daemon.client("hello")).state().then(() => "still there", (err: { code?: string }) => err.code);
      assert.is(gone, "notFound", "the program deleted its container");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, { start: false }));

test("the package ships real types: a program that misuses them does not type-check", async () => {
  const dir = await scratchProject();
  try {
    const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
    const flags = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--skipLibCheck", "--typeRoots", join(repo, "node_modules", "@types"), "--types", "node"];
    const good = `import { RuntimeClient, BerthError, type ContainerState, type ExitStatus, type ContainerConfigInput } from "berth";
const config: ContainerConfigInput = { init: { args: ["true"] } };
const check = async (c: RuntimeClient): Promise<[ContainerState, ExitStatus]> => [await c.state(), await c.wait("x")];
void config; void check; void new BerthError("notFound", "x").code;\n`;
    fs.writeFileSync(join(dir, "good.ts"), good);
    await run(process.execPath, [tsc, ...flags, "good.ts"], { cwd: dir });
    fs.writeFileSync(join(dir, "bad.ts"), `import type { ExitStatus } from "berth";\nconst f = (e: ExitStatus): number => e.exitedAt;\nvoid f;\n`);
    const failed = await run(process.execPath, [tsc, ...flags, "bad.ts"], { cwd: dir }).then(() => "", (err: { stdout?: string }) => err.stdout ?? "failed");
    assert.match(failed, /TS2322/, "exitedAt is a string, so returning it as a number is a type error");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the client entry point loads msgpackr and never better-sqlite3", async () => {
  const { build } = await import("esbuild");
  const exported = (JSON.parse(fs.readFileSync(join(repo, "package.json"), "utf8")) as { exports: Record<string, { import: string }> }).exports["."]!.import;
  const result = await build({ entryPoints: [join(repo, exported)], bundle: true, platform: "node", format: "esm", packages: "external", write: false, metafile: true, logLevel: "silent" });
  const packages = new Set(Object.values(result.metafile.inputs).flatMap((input) => input.imports.filter((i) => i.external && !i.path.startsWith("node:")).map((i) => i.path)));
  assert.ok(packages.has("msgpackr"), `the client speaks msgpack (imports: ${[...packages].join(", ")})`);
  assert.not.ok(packages.has("better-sqlite3"), "the client never loads the journal");
});

test("the CLI reports the package's version", async () => {
  const { stdout } = await run(process.execPath, [join(repo, "bin", "berth.js"), "--version"]);
  assert.is(stdout.trim(), pkg.version);
});

test.run();
