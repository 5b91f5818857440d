// The CLI is one module per command (src/cli/commands/), listed by a registry that loads only
// the module a command line runs. These tests pin the three promises: every registered command
// is a whole module, the registry and docs/cli.md list the same commands, and `berth run` never
// reads the handlers it does not need (the bundle splits each module into a chunk of its own).
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { CommandModule, LeafCommand } from "../src/cli/commands/command.js";
import { COMMANDS } from "../src/cli/commands/index.js";
import { buildProgram } from "../src/cli/program.js";
import { repo } from "./helpers/cli-env.js";

const loaded = async (): Promise<CommandModule[]> => Promise.all(COMMANDS.map(async (c) => (await c.load()).command));

const leaves = (m: CommandModule): LeafCommand[] => (m.kind === "command" ? [m] : m.subcommands);

test("every registered command has a module that names it, describes it and runs it", async () => {
  const modules = await loaded();
  COMMANDS.forEach((entry, i) => {
    const m = modules[i]!;
    assert.is(m.name, entry.name, `commands/index.ts registers ${entry.name}, its module is named ${m.name}`);
    if (m.kind === "command") assert.equal(m.aliases ?? [], entry.aliases ?? [], `${entry.name}: the registry's aliases are the module's`);
    else assert.is(entry.aliases, undefined, `${entry.name}: a group has no aliases`);
    assert.ok(m.description.length > 0, `${m.name} has a description`);
    assert.ok(m.examples.length > 0, `${m.name} has examples`);
    if (m.kind === "group") assert.ok(m.subcommands.length > 0, `${m.name} groups at least one command`);
    for (const leaf of leaves(m)) {
      assert.ok(leaf.name.length > 0 && leaf.description.length > 0, `${m.name} ${leaf.name} is named and described`);
      assert.ok(leaf.examples.length > 0, `${m.name} ${leaf.name} has examples`);
      assert.type(leaf.action, "function", `${m.name} ${leaf.name} has an action`);
    }
  });
  const names = COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]);
  assert.is(new Set(names).size, names.length, "no two commands share a name or alias");
});

test("the registry, the parser and docs/cli.md list the same commands in the same order", async () => {
  const modules = await loaded();
  const program = buildProgram(modules);
  assert.equal(program.commands.map((c) => c.name()), COMMANDS.map((c) => c.name), "`berth --help` lists the registry");
  const doc = fs.readFileSync(join(repo, "docs", "cli.md"), "utf8");
  const headings = [...doc.matchAll(/^## berth (.+)$/gm)].map((m) => m[1]!);
  const expected = modules.flatMap((m) => (m.kind === "command" ? [m.name] : [m.name, ...m.subcommands.map((s) => `${m.name} ${s.name}`)]));
  assert.equal(headings, expected, "docs/cli.md has one section per registered command and subcommand");
});

test("loading one command line's commands loads only that module", async () => {
  const { loadCommands } = await import("../src/cli/commands/index.js");
  assert.equal((await loadCommands("ps")).map((m) => m.name), ["ls"], "an alias loads its command");
  assert.equal((await loadCommands("run")).map((m) => m.name), ["run"]);
  assert.is((await loadCommands("nosuch")).length, COMMANDS.length, "a typo loads every command, for commander's suggestions");
  assert.is((await loadCommands()).length, COMMANDS.length, "--help loads every command");
});

/** scripts/bundle.mjs's CLI build, in memory, and what each chunk reads before it runs. */
async function cliBundle() {
  const { build } = await import("esbuild");
  // Code splitting turns each module that
  // commands/index.ts imports lazily into a chunk of its own.
  const result = await build({
    absWorkingDir: repo,
    entryPoints: { cli: join(repo, "src", "cli", "main.ts") },
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    outdir: join(repo, "dist", "bundle-test"),
    external: ["better-sqlite3", "msgpackr-extract"],
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const outputs = result.metafile.outputs;
  const chunkOf = (source: string) => {
    const found = Object.entries(outputs).find(([, o]) => o.entryPoint === source);
    assert.ok(found, `${source} is a chunk of its own`);
    return found![0];
  };
  /** The chunks a chunk reads before it runs: its static imports, transitively. */
  const closure = (start: string[]) => {
    const seen = new Set<string>();
    const todo = [...start];
    while (todo.length) {
      const file = todo.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const i of outputs[file]!.imports) if (i.kind === "import-statement" && !i.external) todo.push(i.path);
    }
    return seen;
  };
  /** The sources a command line reads before its command runs, and the packages it loads. */
  const commandLine = (command: string) => {
    const read = closure([chunkOf("src/cli/main.ts"), chunkOf(`src/cli/commands/${command}.ts`)]);
    return {
      sources: new Set([...read].flatMap((file) => Object.keys(outputs[file]!.inputs))),
      packages: new Set([...read].flatMap((file) => outputs[file]!.imports.filter((i) => i.external).map((i) => i.path))),
    };
  };
  return { outputs, chunkOf, closure, commandLine };
}

test("the bundle for `berth run` reads no audit, query, journal or image handler, nor SQLite", async () => {
  const { outputs, chunkOf, closure, commandLine } = await cliBundle();
  const { sources, packages } = commandLine("run");
  assert.ok(sources.has("src/cli/commands/run.ts") && sources.has("src/cli/attach.ts"), "run reads its own module");
  const others = COMMANDS.map((c) => `src/cli/commands/${c.name}.ts`).filter((f) => f !== "src/cli/commands/run.ts");
  for (const file of [...others, "src/cli/read-events.ts", "src/events/journal.ts", "src/vm/image-import.ts"]) {
    assert.not.ok(sources.has(file), `berth run does not read ${file}`);
  }
  assert.not.ok(packages.has("better-sqlite3"), "berth run does not load SQLite");
  // `berth --help` loads every module to declare it, but not the journal engine (kysely).
  const help = closure([chunkOf("src/cli/main.ts"), ...COMMANDS.map((c) => chunkOf(`src/cli/commands/${c.name}.ts`))]);
  assert.not.ok([...help].some((file) => "src/events/journal.ts" in outputs[file]!.inputs), "--help does not read src/events/journal.ts");
  // main's own chunk declares nothing: every command module arrives lazily.
  const main = closure([chunkOf("src/cli/main.ts")]);
  const mainSources = [...main].flatMap((file) => Object.keys(outputs[file]!.inputs));
  assert.equal(mainSources.filter((f) => f.startsWith("src/cli/commands/") && f !== "src/cli/commands/index.ts"), []);
});

test("`berth pull` only sends a request: it reads neither the image store nor the code that unpacks layers", async () => {
  // Their imports (crypto, zlib, tar) made the pull's CLI 5 MB bigger (bench/pull.ts sums its RSS with the daemon's).
  const { sources, packages } = (await cliBundle()).commandLine("pull");
  assert.ok(sources.has("src/cli/pull-image.ts"), "pull reads its own module");
  for (const file of ["src/vm/image/store.ts", "src/vm/layer.ts", "src/vm/image/layers.ts", "src/cli/container-options.ts"]) assert.not.ok(sources.has(file), `berth pull does not read ${file}`);
  assert.not.ok(packages.has("node:crypto") || packages.has("node:zlib"), `berth pull loads neither crypto nor zlib: ${[...packages].join(", ")}`);
});

test.run();
