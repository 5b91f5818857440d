// bench/journal: the full command path (validate → decide → append → ack) against raw
// better-sqlite3 single-row inserts with the same pragmas, measured in the same run, plus the
// projection rebuild rate and the journal bytes of one container's full lifecycle.
// Usage: node --import tsx bench/journal.ts [--rounds 5] [--n 2000] [--sync full|normal]
//        (--rebuild FILE: only fold FILE and print events/s; the bench runs itself so)
import Database from "better-sqlite3";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { ContainerEvent } from "../src/events/catalogue.js";
import { Journal, type SyncMode } from "../src/events/journal.js";
import { dispatch } from "../src/daemon/dispatch.js";
import { emptyProjection, fold } from "../src/projections/index.js";
import { validateCommand } from "../src/commands/parse.js";
import type { CommandInput } from "../src/commands/commands.js";

/** A command as the daemon's route parses it, so the parse is part of the timed command path. */
function parsed(input: CommandInput) {
  const command = validateCommand(input);
  if (!command.ok) throw new Error(command.error.message);
  return command.value;
}
import { fmt, median, report } from "./common.js";

// The daemon runs with a 32 MB young generation (folds allocate a lot of short-lived objects);
// measure with the same heap settings, re-running this script under them if needed.
const HEAP_FLAG = "--max-semi-space-size=32";
if (!process.execArgv.includes(HEAP_FLAG)) {
  const run = spawnSync(process.execPath, [HEAP_FLAG, ...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(run.status ?? 1);
}

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" }, n: { type: "string", default: "2000" }, sync: { type: "string", default: "full" }, rebuild: { type: "string" } } });
const rounds = Number(values.rounds), n = Number(values.n), sync = values.sync as SyncMode;
const dir = mkdtempSync(join(tmpdir(), "berth-bench-"));
const actor = { uid: 0, gid: 0, pid: process.pid };

function rawInserts(path: string): number {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${sync.toUpperCase()}`);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL)");
  const insert = db.prepare("INSERT INTO t (body) VALUES (?)");
  const tx = db.transaction((b: Buffer) => insert.run(b));
  const body = Buffer.alloc(120, 7);
  const start = performance.now();
  for (let i = 0; i < n; i++) tx.immediate(body);
  const seconds = (performance.now() - start) / 1000;
  db.close();
  return n / seconds;
}

async function commandPath(path: string): Promise<number> {
  const journal = await Journal.open(path, { sync });
  const projection = emptyProjection();
  const run = (command: Parameters<typeof dispatch>[2], i: number) => dispatch(journal, projection, command, { commandId: `cmd-${i}`, actor });
  run(parsed({ type: "create", id: "bench", config: { init: { args: ["sleep", "1000"] } } }), -1);
  // Put the container in "running" through the reactor's outcomes, then time signal commands.
  const stream = "container-bench";
  for (const event of [
    { type: "BootstrapRequested", data: { dynamicEnv: {} } },
    { type: "ContainerBooted", data: { runtime: { pid: 1, startTime: 1, socket: "/s", driver: "fake" } } },
    { type: "ProcessStartRequested", data: { processId: "bench" } },
    { type: "ProcessStarted", data: { processId: "bench", pid: 2, startedAt: Date.now() } },
  ] as ContainerEvent[]) {
    for (const e of journal.append(stream, [event], "exists").events) fold([e], projection);
  }
  const fresh = fold(journal.readAll());
  Object.assign(projection, fresh);
  const start = performance.now();
  for (let i = 0; i < n; i++) run({ type: "kill", id: "bench", processId: "bench", signal: "SIGCONT" }, i);
  const seconds = (performance.now() - start) / 1000;
  journal.close();
  return n / seconds;
}

function lifecycle(id: string): [string, ContainerEvent][] {
  const s = `container-${id}`;
  const exit = (processId: string, exitCode: number): ContainerEvent => ({ type: "ProcessExited", data: { processId, pid: 4242, exitCode, exitedAt: Date.now(), oomKilled: false } });
  const events: ContainerEvent[] = [
    { type: "BootstrapRequested", data: { dynamicEnv: {} } },
    { type: "ContainerBooted", data: { runtime: { pid: 4000, startTime: 123456, socket: `/var/lib/berth/containers/${id}/runtime.sock`, driver: "runc" } } },
    { type: "ProcessStartRequested", data: { processId: id } },
    { type: "ProcessStarted", data: { processId: id, pid: 4242, startedAt: Date.now() } },
    { type: "StopRequested", data: { signal: "SIGTERM", timeoutInSeconds: 10 } },
    exit(id, 143),
    { type: "ContainerStopped", data: {} },
    { type: "ShutdownRequested", data: {} },
    { type: "ContainerShutdown", data: {} },
    { type: "ContainerDeleted", data: {} },
  ];
  return events.map((e) => [s, e]);
}

async function lifecycleBytes(path: string): Promise<{ eventBytes: number; rowBytes: number; events: number; fileBytesPerLifecycle: number; rebuildPerSec: number; rebuildEvents: number }> {
  const journal = await Journal.open(path, { sync: "normal" });
  const projection = emptyProjection();
  const lifecycles = 20000;
  journal.batch(() => {
    for (let i = 0; i < lifecycles; i++) {
      const id = `web-${i}`;
      dispatch(journal, projection, parsed({ type: "create", id, config: { init: { args: ["nginx", "-g", "daemon off;"] } } }), { commandId: `create-${i}`, actor });
      for (const [s, e] of lifecycle(id)) journal.append(s, [e], "exists", { commandId: `c-${i}-${e.type}`, causationId: "intent-id-1234567", actor });
    }
  });
  // Byte counts per row are the bench's own question, asked of the file directly.
  const file = new Database(path, { readonly: true });
  const perLifecycle = file.prepare(
    "SELECT count(*) AS events, sum(length(body) + length(hash)) AS bytes, sum(length(body) + length(hash) + length(event_id) + length(stream_id) + length(type) + ifnull(length(command_id), 0)) AS rowBytes FROM events WHERE stream_id = 'container-web-0'",
  ).get() as { events: number; bytes: number; rowBytes: number };
  file.close();
  journal.checkpointWal();
  const fileBytes = statSync(path).size;
  const total = journal.head().position;
  journal.close();
  const rebuildPerSec = rebuildInFreshProcess(path);
  return { eventBytes: perLifecycle.bytes, rowBytes: perLifecycle.rowBytes, events: perLifecycle.events, fileBytesPerLifecycle: fileBytes / lifecycles, rebuildPerSec, rebuildEvents: total };
}

/**
 * A rebuild happens when the daemon starts: a fresh process opens the journal and folds it.
 * Measured the same way (this script re-run with --rebuild, same heap flags), so the rebuild
 * does not inherit the heap that writing 220k events left behind. Median of 3 folds.
 */
function rebuildInFreshProcess(path: string): number {
  const run = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, "--rebuild", path], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (run.status !== 0) throw new Error(`the rebuild run exited ${run.status}`);
  return Number(run.stdout.trim());
}

async function rebuildRate(path: string): Promise<number> {
  const journal = await Journal.open(path, { sync: "normal" });
  const total = journal.head().position;
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const start = performance.now();
    fold(journal.readAll());
    times.push(performance.now() - start);
  }
  journal.close();
  return total / (median(times) / 1000);
}

if (values.rebuild) {
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${await rebuildRate(values.rebuild)}\n`);
  process.exit(0);
}

try {
  const raw: number[] = [], path: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate the order each round so neither side always runs on a warmer cache.
    const pair = r % 2 === 0
      ? [rawInserts(join(dir, `raw-${r}.db`)), await commandPath(join(dir, `cmd-${r}.db`))]
      : [await commandPath(join(dir, `cmd-${r}.db`)), rawInserts(join(dir, `raw-${r}.db`))].reverse();
    raw.push(pair[0]!); path.push(pair[1]!);
  }
  const size = await lifecycleBytes(join(dir, "lifecycles.db"));
  report(`bench/journal (synchronous=${sync.toUpperCase()}, ${rounds} rounds × ${n} appends, medians)`, [
    ["raw better-sqlite3 single-row tx/s", fmt(median(raw), 0)],
    ["berth command path appends/s", fmt(median(path), 0)],
    ["ratio (target >= 0.8x)", `${fmt(median(path) / median(raw))}x`],
    ["per-round ratios", path.map((p, i) => fmt(p / raw[i]!)).join(" ")],
    ["projection rebuild events/s (target >= 200k)", `${fmt(size.rebuildPerSec, 0)} over ${fmt(size.rebuildEvents, 0)} events`],
    ["one full lifecycle: events", size.events],
    ["one full lifecycle: stored event bytes, body + hash (target <= 2048)", size.eventBytes],
    ["one full lifecycle: with the indexed text columns (ids, stream, type)", size.rowBytes],
    ["one full lifecycle: file bytes incl. indexes and page slack", fmt(size.fileBytesPerLifecycle, 0)],
  ]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
