// The docs describe what the code does: every event type and schema version is in the catalogue.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { EVENT_TYPES, SCHEMA_VERSIONS } from "../src/events/catalogue.js";
import { LIFECYCLE } from "../src/model/lifecycle.js";

const docs = (name: string) => readFileSync(join(import.meta.dirname, "..", "docs", name), "utf8");

test("docs/events.md lists every event type with its current schema version", () => {
  const catalogue = docs("events.md");
  for (const type of EVENT_TYPES) {
    const row = catalogue.split("\n").find((line) => line.startsWith(`| \`${type}\` |`));
    assert.ok(row, `${type} has a row`);
    assert.is(row!.split("|")[2]!.trim(), String(SCHEMA_VERSIONS[type]), `${type}'s schema version`);
  }
  const documented = [...catalogue.matchAll(/^\| `([A-Za-z]+)` \| \d+ \|/gm)].map((m) => m[1]);
  assert.equal(documented.filter((t) => !EVENT_TYPES.includes(t as never)), [], "no documented event that does not exist");
});

test("docs/architecture.md's lifecycle table allows each command in the statuses of src/model/lifecycle.ts", () => {
  const lines = docs("architecture.md").split("\n");
  const rows = lines.filter((line) => /^\| [a-zA-Z]+ \|/.test(line));
  const table = new Map(rows.map((row) => {
    const [command, allowed] = row.split("|").slice(1, 3).map((cell) => cell.trim());
    return [command!, allowed!.split(", ")];
  }));
  for (const [command, statuses] of Object.entries(LIFECYCLE.commands)) assert.equal(table.get(command), [...statuses], `${command}'s row`);
  const facts = { "has a sandbox": LIFECYCLE.hasSandbox, "init may be alive": LIFECYCLE.initMayBeAlive, "init has started": LIFECYCLE.initStarted };
  for (const [fact, statuses] of Object.entries(facts)) {
    const line = lines.find((l) => l.startsWith(`- ${fact} `));
    assert.ok(line, `the docs list "${fact}"`);
    assert.equal(line!.slice(line!.indexOf(": ") + 2).split(", "), [...statuses], `${fact}'s statuses`);
  }
});

test.run();
