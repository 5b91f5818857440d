// Acceptance 2.1: every command in every state of the lifecycle table (docs/architecture.md), through the real command path
// (decide → SQLite journal). A rejected command leaves the journal file byte-for-byte unchanged.
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Command } from "../src/commands/commands.js";
import { BerthError, type ErrorCode } from "../src/errors.js";
import { containerStream, type ContainerEvent } from "../src/events/catalogue.js";
import { Journal } from "../src/events/journal.js";
import { fold } from "../src/projections/index.js";
import { dispatch } from "../src/daemon/dispatch.js";
import { given, history, initArgs } from "./helpers/model.js";
import { withTempDir } from "./helpers/tmp.js";

const spec = { args: ["ls"], env: {}, cwd: "/" };
const commands: Record<string, Command> = {
  create: { type: "create", id: "c1", config: { init: initArgs } },
  bootstrap: { type: "bootstrap", id: "c1" },
  startInit: { type: "startProcess", id: "c1", processId: "c1" },
  createProcess: { type: "createProcess", id: "c1", processId: "x1", spec },
  startExec: { type: "startProcess", id: "c1", processId: "x1" },
  killInit: { type: "kill", id: "c1", processId: "c1", signal: "TERM" },
  stop: { type: "stop", id: "c1" },
  shutdown: { type: "shutdown", id: "c1" },
  delete: { type: "delete", id: "c1" },
  pause: { type: "pause", id: "c1" },
  unpause: { type: "unpause", id: "c1" },
};

type Expect = string | ErrorCode; // an event type, "none" for an accepted no-op, or an error code
const I = "invalidState", N = "notFound";
// prettier-ignore
const table: Record<string, Expect[]> = {
  //               create              bootstrap             startInit                createProcess     startExec  killInit      stop             shutdown             delete              pause             unpause
  none:         ["ContainerCreated", N,                    N,                       N,                N,         N,            N,               N,                   N,                  N,                N],
  created:      ["exists",           "BootstrapRequested", I,                       I,                I,         I,            "none",          "ShutdownRequested", "ContainerDeleted", I,                I],
  booting:      ["exists",           I,                    I,                       I,                I,         I,            I,               I,                   I,                  I,                I],
  booted:       ["exists",           I,                    "ProcessStartRequested", "ProcessCreated", I,         I,            "StopRequested", "ShutdownRequested", I,                  I,                I],
  running:      ["exists",           I,                    I,                       "ProcessCreated", N,         "SignalSent", "StopRequested", I,                   I,                  "PauseRequested", I],
  paused:       ["exists",           I,                    I,                       I,                I,         I,            "StopRequested", I,                   I,                  I,                "UnpauseRequested"],
  stopping:     ["exists",           I,                    I,                       I,                I,         "SignalSent", "none",          I,                   I,                  I,                I],
  stopped:      ["exists",           I,                    I,                       I,                I,         I,            "none",          "ShutdownRequested", "ContainerDeleted", I,                I],
  shuttingDown: ["exists",           I,                    I,                       I,                I,         I,            I,               I,                   I,                  I,                I],
  deleted:      ["ContainerCreated", N,                    N,                       N,                N,         N,            N,               N,                   N,                  N,                N],
};

function journalBytes(path: string): string {
  return [path, `${path}-wal`].map((p) => (existsSync(p) ? readFileSync(p).toString("base64") : "")).join("|");
}

async function outcome(status: string, command: Command): Promise<{ got: Expect; unchanged: boolean }> {
  return withTempDir(async (dir) => {
    const path = join(dir, "journal.db");
    const journal = await Journal.open(path);
    try {
      const past: ContainerEvent[] = status === "none" ? [] : history[status as keyof typeof history]();
      if (past.length) journal.append(containerStream("c1"), past, "noStream");
      const projection = fold(journal.readAll());
      const before = journalBytes(path);
      try {
        const { events } = dispatch(journal, projection, command, { commandId: `cmd-${status}-${command.type}` });
        return { got: events.length === 0 ? "none" : events.map((e) => e.type).join(","), unchanged: true };
      } catch (err) {
        assert.instance(err, BerthError);
        return { got: (err as BerthError).code, unchanged: journalBytes(path) === before };
      }
    } finally {
      journal.close();
    }
  });
}

const names = Object.keys(commands);
for (const [status, row] of Object.entries(table)) {
  test(`state machine: every command in status ${status}`, async () => {
    for (let i = 0; i < names.length; i++) {
      const { got, unchanged } = await outcome(status, commands[names[i]!]!);
      assert.is(got, row[i], `${names[i]} in ${status}`);
      assert.ok(unchanged, `rejected ${names[i]} in ${status} changed the journal`);
    }
  });
}

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
  given([]).when({ type: "create", id: "c1", config: { init: initArgs, network: "bridge" } }).then("invalidArgument");
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
