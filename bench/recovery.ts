// bench/recovery: time from daemon start to the first answered `state` call, over a journal of
// 1,000,000 events with 100 live containers (fake driver), with a snapshot and with a full
// replay, in the same run. Runs the compiled daemon (dist/) when built, else through tsx.
// Usage: node --import tsx bench/recovery.ts [--events 1000000] [--live 100] [--rounds 3]
import Database from "better-sqlite3";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { ContainerEvent } from "../src/events/catalogue.js";
import { Journal } from "../src/events/journal.js";
import { dispatch } from "../src/daemon/dispatch.js";
import { IpcClient } from "../src/ipc/client.js";
import { RuntimeClient } from "../src/ipc/runtime-client.js";
import { emptyProjection } from "../src/projections/index.js";
import { journalPath, socketPath } from "../src/host/root-layout.js";
import { validateCommand } from "../src/commands/parse.js";
import type { CommandInput } from "../src/commands/commands.js";

/** A command as the daemon's route parses it, so the parse is part of the timed command path. */
function parsed(input: CommandInput) {
  const command = validateCommand(input);
  if (!command.ok) throw new Error(command.error.message);
  return command.value;
}
import { fmt, median, report } from "./common.js";

const { values } = parseArgs({ options: { events: { type: "string", default: "1000000" }, live: { type: "string", default: "100" }, rounds: { type: "string", default: "3" } } });
const targetEvents = Number(values.events), live = Number(values.live), rounds = Number(values.rounds);
const here = import.meta.dirname;
const compiled = join(here, "..", "dist", "src", "daemon", "main.js");
const daemonArgs = ["--max-semi-space-size=32", ...(existsSync(compiled) ? [compiled] : ["--import", "tsx", join(here, "..", "src", "daemon", "main.ts")])];
const root = mkdtempSync(join(tmpdir(), "berth-rec-"));
const actor = { uid: 0, gid: 0, pid: process.pid };

/** History: whole lifecycles of containers that are deleted since, as the fake driver journals them. */
async function writeHistory(events: number): Promise<void> {
  const journal = await Journal.open(join(root, "journal.db"), { sync: "normal" });
  const projection = emptyProjection();
  const outcome = (id: string, e: ContainerEvent) => journal.append(`container-${id}`, [e], "exists", { actor, causationId: "intent" }).events;
  let n = 0;
  journal.batch(() => {
    for (let i = 0; n < events; i++) {
      const id = `old-${i}`;
      n += dispatch(journal, projection, parsed({ type: "create", id, config: { init: { args: ["sleep", "1"] } } }), { actor, commandId: `c-${i}` }).events.length;
      const lifecycle: ContainerEvent[] = [
        { type: "BootstrapRequested", data: { dynamicEnv: {} } },
        { type: "ContainerBooted", data: { runtime: { pid: 1000, startTime: 1, socket: `${root}/containers/${id}/runtime.sock`, driver: "fake" } } },
        { type: "ProcessStartRequested", data: { processId: id } },
        { type: "ProcessStarted", data: { processId: id, pid: 1001, startedAt: 1 } },
        { type: "ProcessExited", data: { processId: id, pid: 1001, exitCode: 0, exitedAt: 2, oomKilled: false } },
        { type: "ContainerStopped", data: {} },
        { type: "ShutdownRequested", data: {} },
        { type: "ContainerShutdown", data: {} },
        { type: "ContainerDeleted", data: {} },
      ];
      for (const e of lifecycle.slice(0, Math.min(lifecycle.length, events - n))) n += outcome(id, e).length;
    }
  });
  journal.close();
}

function startDaemon(): { child: ChildProcess; exited: Promise<void> } {
  const child = spawn(process.execPath, [...daemonArgs, "--root", root, "--driver", "fake", "--default-network", "none"], { stdio: ["ignore", process.env.BERTH_BENCH_VERBOSE ? "inherit" : "ignore", "inherit"] });
  return { child, exited: new Promise((r) => child.once("exit", () => r())) };
}

async function firstStateMs(id: string): Promise<number> {
  const start = performance.now();
  const { child, exited } = startDaemon();
  for (;;) {
    try {
      const ipc = await IpcClient.connect(socketPath(root), { timeoutMs: 60_000 });
      const state = await ipc.call<{ status: string }>("state", { id });
      const ms = performance.now() - start;
      ipc.close();
      if (state.status !== "running") throw new Error(`unexpected state ${state.status}`);
      child.kill("SIGTERM");
      await exited;
      return ms;
    } catch (err) {
      if ((err as { code?: string }).code === "internalError") throw err;
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

async function daemonServing(): Promise<void> {
  for (;;) {
    try {
      (await IpcClient.connect(socketPath(root))).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function dropSnapshot(): Promise<void> {
  // Out of band, on the file itself: the journal has no way to drop a snapshot, nor should it.
  const db = new Database(journalPath(root));
  db.prepare("DELETE FROM snapshots").run();
  db.close();
}

try {
  await writeHistory(targetEvents - live * 5);
  const { child, exited } = startDaemon();
  const ids = Array.from({ length: live }, (_, i) => `live-${i}`);
  await daemonServing();
  for (const id of ids) {
    const rc = await RuntimeClient.create({ id, socket: socketPath(root), timeoutMs: 60_000 });
    await rc.createContainer({ init: { args: ["sleep"] } });
    await rc.bootstrap();
    await rc.startProcess(id);
    rc.close();
  }
  child.kill("SIGKILL"); // the live containers' runtime services stay up, as after a crash
  await exited;
  const probe = await Journal.open(join(root, "journal.db"), { readonly: true });
  const total = probe.head().position;
  probe.close();

  const withSnapshot: number[] = [], fullReplay: number[] = [];
  for (let r = 0; r < rounds; r++) {
    await dropSnapshot();
    fullReplay.push(await firstStateMs(ids[0]!)); // ends with a clean stop, which saves a snapshot
    withSnapshot.push(await firstStateMs(ids[0]!));
  }
  report(`bench/recovery (${fmt(total, 0)} events, ${live} live containers, fake driver, ${existsSync(compiled) ? "compiled daemon" : "daemon via tsx"}, medians of ${rounds})`, [
    ["start → first state, with snapshot (target < 1000 ms)", `${fmt(median(withSnapshot), 0)} ms`],
    ["start → first state, full replay", `${fmt(median(fullReplay), 0)} ms`],
    ["ratio full replay / snapshot", `${fmt(median(fullReplay) / median(withSnapshot))}x`],
    ["runs (snapshot)", withSnapshot.map((x) => fmt(x, 0)).join(" ")],
    ["runs (full replay)", fullReplay.map((x) => fmt(x, 0)).join(" ")],
  ]);
  // Release the live containers' runtime services.
  const { child: last, exited: lastExit } = startDaemon();
  await daemonServing();
  for (const id of ids) {
    const rc = await RuntimeClient.create({ id, socket: socketPath(root) });
    await rc.delete({ force: true }).catch(() => {});
    rc.close();
  }
  last.kill("SIGTERM");
  await lastExit;
} finally {
  rmSync(root, { recursive: true, force: true });
}
