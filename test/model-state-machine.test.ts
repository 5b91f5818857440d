// Acceptance 2.1, through the real command path (decide → SQLite journal): a rejected command
// leaves the journal file byte-for-byte unchanged. The decisions themselves are specified purely
// in model-decide.test.ts and model-evolve.test.ts.
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BerthError } from "../src/model/errors.js";
import { containerStream, type ContainerEvent } from "../src/events/catalogue.js";
import { Journal } from "../src/events/journal.js";
import { fold } from "../src/projections/index.js";
import { dispatch } from "../src/daemon/dispatch.js";
import { STATUSES } from "../src/model/lifecycle.js";
import { commands, decideTable, historyOf } from "./helpers/lifecycle-specs.js";
import { given, history, initArgs } from "./helpers/model.js";
import { withTempDir } from "./helpers/tmp.js";

const spec = { args: ["ls"], env: {}, cwd: "/" };

function journalBytes(path: string): string {
  return [path, `${path}-wal`].map((p) => (existsSync(p) ? readFileSync(p).toString("base64") : "")).join("|");
}

// What decide answers in each status is specified purely (model-decide.test.ts). Here, through
// the real command path, every pair it refuses leaves the SQLite file exactly as it was.
test("every refused (status, command) pair leaves the journal file byte-for-byte unchanged", async () => {
  let refused = 0;
  for (const status of STATUSES) {
    await withTempDir(async (dir) => {
      const path = join(dir, "journal.db");
      const journal = await Journal.open(path);
      try {
        const past = historyOf(status);
        if (past.length) journal.append(containerStream("c1"), past, "noStream");
        const projection = fold(journal.readAll());
        for (const [name, command] of Object.entries(commands)) {
          if (given(past).when(command).decision.ok) continue;
          const before = journalBytes(path);
          assert.throws(() => dispatch(journal, projection, command, { commandId: `cmd-${status}-${name}` }), (err: unknown) => err instanceof BerthError, `${name} in ${status} is refused`);
          assert.is(journalBytes(path), before, `refused ${name} in ${status} changed the journal`);
          refused += 1;
        }
      } finally {
        journal.close();
      }
    });
  }
  assert.is(refused, Object.values(decideTable).flat().filter((cell) => /^[a-z]/.test(cell) && cell !== "none").length, "every refused cell was tried");
});

test("an exec process starts only once, and only while the container runs", () => {
  const withExec: ContainerEvent[] = [...history.running(), { type: "ProcessCreated", data: { processId: "x1", spec: { ...spec, rlimits: [], terminal: false } } }];
  given(withExec).when(commands.startExec!).then([{ type: "ProcessStartRequested", data: { processId: "x1" } }]);
  const started: ContainerEvent[] = [...withExec, { type: "ProcessStartRequested", data: { processId: "x1" } }];
  given(started).when(commands.startExec!).then("invalidState");
  given(withExec).when(commands.createProcess!).then("exists");
});

test("errors say what happened and what was expected", () => {
  const { decision } = given(history.running()).when(commands.bootstrap!);
  assert.equal(decision, { ok: false, error: { code: "invalidState", message: "cannot bootstrap: container c1 is running, expected created" } });
  const del = given(history.running()).when(commands.delete!).decision;
  assert.match(del.ok ? "" : del.error.message, /expected created or stopped \(use force/);
});

test("bad input is invalidArgument: ids, signals, configs, timeouts", () => {
  for (const id of ["../x", "x/y", "", "a".repeat(65), "-x", ".."]) {
    given([]).when({ type: "create", id, config: { init: initArgs } }).then("invalidArgument");
  }
  given(history.running()).when({ type: "kill", id: "c1", processId: "c1", signal: "SIGNOPE" }).then("invalidArgument");
  given(history.running()).when({ type: "kill", id: "c1", processId: "c1", signal: 9 }).then([{ type: "SignalSent", data: { processId: "c1", signal: "SIGKILL" } }]);
  given(history.running()).when({ type: "stop", id: "c1", timeoutInSeconds: -1 }).then("invalidArgument");
  given([]).when({ type: "create", id: "c1", config: { init: { args: [] } } }).then("invalidArgument");
  given([]).when({ type: "create", id: "c1", config: { init: initArgs, network: "not/a name" } }).then("invalidArgument");
  given([]).when({ type: "create", id: "c1", config: { init: { ...initArgs, rlimits: [{ type: "RLIMIT_NOFILE", soft: 1048576, hard: 1048576 }] } } }).then("invalidArgument");
  given([]).when({ type: "create", id: "c1", config: { init: { ...initArgs, cwd: "/../etc" } } }).then("invalidArgument");
  given(history.booted()).when({ type: "createProcess", id: "c1", processId: "../p", spec }).then("invalidArgument");
});

test("a retried command id returns the original events and appends nothing", async () => {
  await withTempDir(async (dir) => {
    const journal = await Journal.open(join(dir, "j.db"));
    try {
      const projection = fold(journal.readAll());
      const first = dispatch(journal, projection, commands.create!, { commandId: "same" });
      const again = dispatch(journal, projection, commands.create!, { commandId: "same" });
      assert.is(again.duplicate, true);
      assert.equal(again.events.map((e) => e.position), first.events.map((e) => e.position));
      assert.is(journal.head().position, 1);
    } finally {
      journal.close();
    }
  });
});

test.run();
