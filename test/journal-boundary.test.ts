// The journal is reached only through Journal's named methods: no file outside the journal's own
// files in src/events/ imports better-sqlite3 (statically, dynamically, as a type or through a
// re-export), and nothing anywhere (src, tests, benches) touches a Journal's connection. The
// second is what TypeScript's `private` already refuses, except through `journal["db"]`, which
// the compiler lets through; the type checker finds both forms here.
import { dirname, relative } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import ts from "typescript";
import { program, repo, sourceFiles as files, specifiers, where } from "./helpers/imports.js";

/** The journal's own files: the only ones that may open the SQLite file. */
const JOURNAL_FILES = ["src/events/journal.ts", "src/events/journal-read.ts", "src/events/journal-write.ts", "src/events/journal-sqlite.ts", "src/events/lock.ts"];
const CONNECTION = new Set(["db", "kysely"]);

const p = program();
const checker = p.getTypeChecker();
const all = files(p);

test("only the journal's own files import better-sqlite3", () => {
  const offenders: string[] = [];
  let journalImports = 0;
  for (const f of all) {
    const path = relative(repo, f.fileName);
    if (!path.startsWith("src/")) continue; // tests and benches may open the file on purpose (test/helpers/sqlite-file.ts)
    for (const { spec, node } of specifiers(f)) {
      if (spec !== "better-sqlite3") continue;
      if (JOURNAL_FILES.includes(path)) journalImports += 1;
      else offenders.push(where(f, node));
    }
  }
  assert.ok(journalImports > 0, "the scan sees the journal's own imports of better-sqlite3");
  assert.equal(offenders, [], "files outside the journal that import better-sqlite3");
});

/** The class declaration a node's type comes from, if it is the Journal of src/events/journal.ts. */
function isJournal(type: ts.Type): boolean {
  const declaration = (type.getSymbol() ?? type.aliasSymbol)?.getDeclarations()?.[0];
  return declaration !== undefined && ts.isClassDeclaration(declaration) && declaration.name?.text === "Journal" && relative(repo, declaration.getSourceFile().fileName) === "src/events/journal.ts";
}

test("nothing outside src/events/journal.ts touches a Journal's db or kysely", () => {
  const offenders: string[] = [];
  let journalMembers = 0;
  for (const f of all) {
    const inside = relative(repo, f.fileName) === "src/events/journal.ts";
    const visit = (node: ts.Node) => {
      const name = ts.isPropertyAccessExpression(node) ? node.name.text : ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression) ? node.argumentExpression.text : undefined;
      if (name !== undefined && isJournal(checker.getNonNullableType(checker.getTypeAtLocation((node as ts.PropertyAccessExpression | ts.ElementAccessExpression).expression)))) {
        journalMembers += 1;
        if (CONNECTION.has(name) && !inside) offenders.push(`${where(f, node)} ${node.getText(f)}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(f);
  }
  assert.ok(journalMembers > 50, `the scan recognises Journal members (found ${journalMembers})`);
  assert.equal(offenders, [], "code that reaches into a Journal's connection");
});

test("the scan covers the sources, the tests and the benches", () => {
  const dirs = new Set(all.map((f) => relative(repo, dirname(f.fileName)).split("/")[0]));
  for (const dir of ["src", "test", "bench"]) assert.ok(dirs.has(dir), `${dir}/ is scanned`);
});

test.run();
