// The folders of src/ stack in one order, and a file imports only from its own folder or from
// folders below it (docs/architecture.md, "The parts"). Every edge counts: static, type-only,
// re-exports, `import()`, `require()` and `import("x").T` types. model/ holds only pure code,
// so it imports no node: module that does I/O.
import { dirname, relative, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { program, repo, sourceFiles, specifiers, where, type EdgeKind } from "./helpers/imports.js";

/** Bottom first. migrations/ is part of events: the journal's schema. */
export const LAYERS = ["model", "events", "projections", "commands", "host", "ipc", "fleet", "vm", "daemon", "cli"] as const;

const layerOf = (path: string): number | undefined => {
  const [top, folder] = relative(repo, path).split("/");
  if (top === "migrations") return LAYERS.indexOf("events");
  if (top !== "src") return undefined;
  const i = LAYERS.indexOf(folder as (typeof LAYERS)[number]);
  return i < 0 ? undefined : i;
};

/** Node modules that model/ may name: constants and types, never a file, a process or a socket. */
const PURE_NODE = new Set(["node:os"]);

const p = program();
const files = sourceFiles(p).filter((f) => /^(src|migrations)\//.test(relative(repo, f.fileName)));

test("every file under src/ sits in a layer", () => {
  const homeless = files.map((f) => relative(repo, f.fileName)).filter((path) => layerOf(resolve(repo, path)) === undefined);
  assert.equal(homeless, [], "files outside the layered folders (a file directly under src/ belongs in the folder it serves)");
});

test("no file imports from a folder above its own", () => {
  const upward: string[] = [];
  const kinds = new Map<EdgeKind, number>();
  for (const f of files) {
    const from = layerOf(f.fileName);
    for (const { spec, node, kind } of specifiers(f)) {
      if (!spec.startsWith(".")) continue;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      const to = layerOf(resolve(dirname(f.fileName), spec));
      if (from !== undefined && to !== undefined && to > from) upward.push(`${where(f, node)} (${LAYERS[from]} → ${LAYERS[to]}, ${kind}) ${spec}`);
    }
  }
  // The scan must see every kind of edge the sources use, or a violation of that kind would pass.
  for (const kind of ["static", "type-only", "re-export", "dynamic"] as const) assert.ok((kinds.get(kind) ?? 0) > 0, `the scan sees ${kind} imports`);
  assert.equal(upward, [], "imports that run against the layering");
});

test("model/ is pure: it names no node: module that does I/O, and no package", () => {
  const impure: string[] = [];
  for (const f of files.filter((f) => relative(repo, f.fileName).startsWith("src/model/"))) {
    for (const { spec, node } of specifiers(f)) if (!spec.startsWith(".") && !PURE_NODE.has(spec)) impure.push(`${where(f, node)} ${spec}`);
  }
  assert.equal(impure, []);
});

test.run();
