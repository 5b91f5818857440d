// The lifecycle table of src/model/lifecycle.ts is the one place the state machine is written:
// it is whole, the model reads it (a changed cell fails both specs), and the modules that
// check statuses import it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { containerDecider } from "../src/commands/decide.js";
import { EVENT_TYPES } from "../src/events/catalogue.js";
import { LIFECYCLE, STATUSES, type Lifecycle, type LifecycleStatus } from "../src/model/lifecycle.js";
import { decideSpec, evolveSpec } from "./helpers/lifecycle-specs.js";

const fails = (spec: (status: LifecycleStatus, table: Lifecycle) => void, table: Lifecycle) =>
  STATUSES.some((status) => {
    try {
      spec(status, table);
      return false;
    } catch {
      return true; // an assertion, or the model tripping over a state the table now lets in
    }
  });

/** The table with one cell of `rows[row]` flipped. structuredClone keeps the rows the event rules share. */
function flipped(pick: (t: Lifecycle) => LifecycleStatus[], status: LifecycleStatus): Lifecycle {
  const table = structuredClone(LIFECYCLE);
  const cells = pick(table);
  const at = cells.indexOf(status);
  if (at >= 0) cells.splice(at, 1);
  else cells.push(status);
  return table;
}

test("the table walks: every command, event and fact names known statuses, and each status is reachable", () => {
  const known = new Set(STATUSES);
  const rows = [...Object.values(LIFECYCLE.commands), ...Object.values(LIFECYCLE.noop), LIFECYCLE.start.init, LIFECYCLE.start.exec, LIFECYCLE.hasSandbox, LIFECYCLE.initMayBeAlive, LIFECYCLE.initStarted];
  for (const row of rows) for (const s of row!) assert.ok(known.has(s), `${s} is a status`);
  const containerEvents = EVENT_TYPES.filter((t) => t in LIFECYCLE.events);
  assert.equal(Object.keys(LIFECYCLE.events).sort(), [...containerEvents].sort(), "every container event has a rule");
  // A command is either run, a no-op, or refused in a status: never both run and a no-op.
  for (const [command, noop] of Object.entries(LIFECYCLE.noop)) for (const s of noop!) assert.not.ok(LIFECYCLE.commands[command as keyof Lifecycle["commands"]].includes(s), `${command} in ${s}`);
  // The finer start rules stay inside startProcess's row.
  for (const s of [...LIFECYCLE.start.init, ...LIFECYCLE.start.exec]) assert.ok(LIFECYCLE.commands.startProcess.includes(s));
  // Every status but none can be reached from none by events the table allows (walked breadth first by the evolve spec's histories).
  assert.is(containerDecider.initialState.status, "none");
  assert.equal(STATUSES.filter((s) => !known.has(s)), []);
});

test("the specs pass on the table as it is", () => {
  assert.not.ok(fails(decideSpec, LIFECYCLE), "decide spec");
  assert.not.ok(fails(evolveSpec, LIFECYCLE), "evolve spec");
});

test("flipping any cell of a command's row fails both the decide spec and the evolve spec", () => {
  for (const command of Object.keys(LIFECYCLE.commands) as (keyof Lifecycle["commands"])[]) {
    for (const status of STATUSES) {
      const table = flipped((t) => t.commands[command] as LifecycleStatus[], status);
      assert.ok(fails(decideSpec, table), `decide spec notices ${command} × ${status}`);
      assert.ok(fails(evolveSpec, table), `evolve spec notices ${command} × ${status}`);
    }
  }
});

test("flipping a no-op or a start cell fails the decide spec; an event-only cell, the evolve spec", () => {
  for (const status of STATUSES) {
    assert.ok(fails(decideSpec, flipped((t) => t.noop.stop as LifecycleStatus[], status)), `noop stop × ${status}`);
    for (const kind of ["init", "exec"] as const) {
      const table = flipped((t) => t.start[kind] as LifecycleStatus[], status);
      // Outside startProcess's row the finer rule is never reached: nothing to notice there.
      if (LIFECYCLE.commands.startProcess.includes(status)) assert.ok(fails(decideSpec, table), `start ${kind} × ${status}`);
    }
  }
  // (ContainerPaused/Unpaused are guarded by a pending intent first, which no canned history holds outside running and paused.)
  for (const type of ["ContainerStopped", "ContainerLost", "RestartScheduled"] as const) {
    for (const status of STATUSES) {
      assert.ok(fails(evolveSpec, flipped((t) => t.events[type].in as LifecycleStatus[], status)), `${type} × ${status}`);
    }
  }
});

test("the decider, the projection's audit, recovery, the routes and the runtime service import the table", () => {
  const files = ["src/commands/decide.ts", "src/projections/transitions.ts", "src/daemon/recovery.ts", "src/daemon/routes.ts", "src/daemon/runtime-service.ts", "src/daemon/dispatch.ts"];
  for (const file of files) {
    const source = readFileSync(join(import.meta.dirname, "..", file), "utf8");
    const imports = file === "src/daemon/dispatch.ts" ? /from "\.\.\/commands\/decide\.js"/ : /from "(\.\.\/)+model\/lifecycle\.js"/;
    assert.match(source, imports, `${file} imports the lifecycle`);
    // No status list written out by hand beside it.
    assert.not.match(source, /\[\s*"(created|booted|running|paused|stopping|stopped)"\s*,\s*"(created|booted|running|paused|stopping|stopped)"/, `${file} has no status list of its own`);
  }
  const dispatch = readFileSync(join(import.meta.dirname, "..", "src/daemon/dispatch.ts"), "utf8");
  assert.match(dispatch, /decider\.decide\(/, "dispatch decides through the Decider value");
});

test.run();
