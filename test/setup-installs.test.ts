// Every external program that berth, its tests and its benchmarks run is installed by a setup
// script when it is missing: scripts/setup.sh for what berth runs (src/), scripts/test-setup.sh
// for what only the tests and benchmarks run. The programs are read from the sources (every
// spawn / execFile / runCommand / findExecutable target, and `command -v` probes), so a new one
// that no script declares fails here. Then the scripts run with every program hidden from PATH
// and a stand-in apt-get, which must be asked for each declared package, and is never called
// when nothing is missing.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { repo } from "./helpers/cli-env.js";
import { tempDir } from "./helpers/tmp.js";

// A call that starts a program: its first argument, a string or a NAME constant of the same file.
const CALL = /\b(?:spawn|spawnSync|execFile|execFileSync|execSync|runCommand|findExecutable)\(\s*(?:"([^"\s]+)|([A-Z][A-Z0-9_]*)\b)/g;
const PROBE = /command -v ([\w.+-]+)/g;

/**
 * What the setup scripts themselves assume: Node 20 with npm (README), and the installer.
 * `process.execPath` (node) is never a string literal, so it is not read from the sources.
 */
const PREREQUISITES = new Set(["node", "npm", "npx", "apt-get"]);

/**
 * node-gyp (inside npm) compiles better-sqlite3 and the addons in native/ (scripts/build-native.sh)
 * with python3, make and g++: programs of a program, which no source names.
 */
const BUILD_TOOLCHAIN = ["python3", "make", "g++"];

/** This file is left out: it runs only bash and dirname, which the setup scripts need to run at all. */
function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(join(repo, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|mjs|sh)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => file !== import.meta.filename);
}

/** Every program the files under `dirs` run, with the first file that runs it. */
function programsRunBy(dirs: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of dirs.flatMap(sourceFiles)) {
    const text = fs.readFileSync(file, "utf8");
    const add = (program: string | undefined) => {
      if (program && !PREREQUISITES.has(program) && !found.has(program)) found.set(program, file.slice(repo.length + 1));
    };
    for (const m of text.matchAll(CALL)) add(m[1] ?? text.match(new RegExp(`const ${m[2]} = "([^"]+)"`))?.[1]);
    for (const m of text.matchAll(PROBE)) add(m[1]);
  }
  return found;
}

/** The `need PROGRAM PACKAGE` declarations of a setup script. */
function declared(script: string): Map<string, string> {
  const text = fs.readFileSync(join(repo, "scripts", script), "utf8");
  return new Map([...text.matchAll(/^\s*need (\S+) (\S+)/gm)].map((m) => [m[1]!, m[2]!]));
}

test("the sources run programs the setup scripts declare: berth's in setup.sh, the tests' and benches' in either", () => {
  const runtime = declared("setup.sh");
  const all = new Map([...runtime, ...declared("test-setup.sh")]);
  const berth = programsRunBy(["src"]);
  for (const p of ["runc", "/bin/busybox", "mknod", "cp"]) assert.ok(berth.has(p), `the scan finds ${p} in src/ (found ${[...berth.keys()].join(", ")})`);
  for (const [program, file] of berth) assert.ok(runtime.has(program), `${file} runs ${program}, which scripts/setup.sh does not declare (need ${program} PACKAGE)`);
  for (const program of BUILD_TOOLCHAIN) assert.ok(runtime.has(program), `node-gyp needs ${program}: scripts/setup.sh must declare it`);
  const tests = programsRunBy(["test", "bench", "scripts"]);
  for (const p of ["mount", "umount", "podman"]) assert.ok(tests.has(p), `the scan finds ${p} in the tests and benches`);
  for (const [program, file] of tests) assert.ok(all.has(program), `${file} runs ${program}, which neither setup script declares`);
});

/**
 * Runs a setup script's program checks (BERTH_SETUP_PROGRAMS_ONLY stops setup.sh after them)
 * with PATH holding only `dirname` and the stand-ins given, and returns what apt-get was asked.
 */
function runWithPath(script: string, args: string[], standIns: Record<string, string>): string[] {
  const dir = tempDir("berth-setup-");
  try {
    const bin = join(dir.path, "bin");
    fs.mkdirSync(bin);
    const log = join(dir.path, "apt-get.log");
    const stub = (name: string, body: string) => fs.writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    stub("apt-get", `echo "$*" >> ${log}`);
    for (const [name, body] of Object.entries(standIns)) stub(name, body);
    fs.symlinkSync(spawnSync("bash", ["-c", "command -v dirname"], { encoding: "utf8" }).stdout.trim(), join(bin, "dirname"));
    const r = spawnSync("/bin/bash", [join(repo, "scripts", script), ...args], { env: { PATH: bin, BERTH_SETUP_PROGRAMS_ONLY: "1" }, encoding: "utf8" });
    assert.is(r.status, 0, `${script}: ${r.stderr}`);
    return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
  } finally {
    dir.remove();
  }
}

test("with every program missing, each script asks apt-get for the package of every program it declares", () => {
  for (const [script, args] of [["setup.sh", []], ["test-setup.sh", ["--bench"]]] as const) {
    const calls = runWithPath(script, [...args], { "dpkg-query": "exit 1" });
    assert.is(calls[0], "update -qq", `${script}: ${calls.join(" | ")}`);
    const install = calls.find((c) => c.startsWith("install "))?.split(" ") ?? [];
    for (const [program, pkg] of declared(script)) assert.ok(install.includes(pkg), `${script} installs ${pkg} when ${program} is missing: ${calls.join(" | ")}`);
  }
});

test("with every program present, no script calls apt-get", () => {
  for (const [script, args] of [["setup.sh", []], ["test-setup.sh", ["--bench"]]] as const) {
    const present = Object.fromEntries([...declared(script).keys()].filter((p) => !p.startsWith("/")).map((p) => [p, "exit 0"]));
    const calls = runWithPath(script, [...args], { ...present, "dpkg-query": "echo -n 'install ok installed'" });
    assert.equal(calls, [], `${script} called apt-get: ${calls.join(" | ")}`);
  }
});

test.run();
