// Read-only container commands: logs, inspect, ls, stats.
import { totalmem } from "node:os";
import { BerthError, toBerthError } from "../model/errors.js";
import type { ContainerState } from "../projections/container.js";
import type { Statistics } from "../vm/driver.js";
import { entryText, type LogEntry } from "../vm/logs.js";
import { checkIds } from "./container-options.js";
import { EXIT, errorLine, type Session } from "./context.js";
import { ago, humanBytes, parseFormat, parseTime, shellQuote, table, truncate } from "./format.js";
import { inspectOf, statusText } from "./inspect.js";
import { write } from "./output.js";
import { warnIfStale } from "./system.js";

const out = (line: string) => process.stdout.write(`${line}\n`);

export interface LogsFlags {
  follow?: boolean;
  since?: string;
  until?: string;
  tail?: string;
  timestamps?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export async function logs(session: Session, flags: LogsFlags, id: string): Promise<number> {
  checkIds([id]);
  if (flags.stdout && flags.stderr) throw new BerthError("invalidArgument", "--stdout and --stderr exclude each other; give neither for both streams");
  const query: { follow?: boolean; since?: number; tail?: number; stdout?: boolean; stderr?: boolean } = {};
  if (flags.follow) query.follow = true;
  if (flags.since !== undefined) query.since = parseTime(flags.since);
  const until = flags.until !== undefined ? parseTime(flags.until) : undefined;
  if (flags.tail !== undefined && flags.tail !== "all") {
    if (!/^\d+$/.test(flags.tail)) throw new BerthError("invalidArgument", `invalid --tail "${flags.tail}": expected a number of lines or "all"`);
    query.tail = Number(flags.tail);
  }
  if (flags.stdout) query.stderr = false;
  if (flags.stderr) query.stdout = false;
  const client = await session.client(id);
  const stream = client.logs<LogEntry>(query);
  process.once("SIGINT", () => stream.cancel());
  // A partial entry continues on the stream's next one: one timestamp per line, not per entry.
  const midLine = { stdout: false, stderr: false };
  for await (const e of stream) {
    if (until !== undefined && e.t > until) {
      if (flags.follow) break;
      continue;
    }
    const stamp = flags.timestamps && !midLine[e.s] ? `${new Date(e.t).toISOString()} ` : "";
    midLine[e.s] = e.partial === true;
    const sent = write(e.s === "stdout" ? process.stdout : process.stderr, stamp + entryText(e));
    if (sent) await sent;
  }
  return 0;
}

export async function inspect(session: Session, ids: string[]): Promise<number> {
  checkIds(ids);
  const found = [];
  let code = 0;
  for (const id of ids) {
    try {
      const state = await (await session.client(id)).state<ContainerState>();
      warnIfStale([state]);
      found.push(inspectOf(state));
    } catch (err) {
      process.stderr.write(`${errorLine(toBerthError(err))}\n`);
      code = EXIT.failure;
    }
  }
  out(JSON.stringify(found, null, 2));
  return code;
}

export interface LsFlags {
  all?: boolean;
  quiet?: boolean;
  filter: string[];
  format?: string;
}

export async function ls(session: Session, flags: LsFlags): Promise<number> {
  const format = parseFormat(flags.format);
  const filters = flags.filter.map((f) => {
    const [key, ...value] = f.split("=");
    if (!["status", "id", "label"].includes(key!) || value.length === 0) throw new BerthError("invalidArgument", `invalid --filter "${f}": expected status=S, id=ID or label=K[=V]`);
    return { key: key!, value: value.join("=") };
  });
  const ipc = await session.ipc();
  let list = await ipc.call<ContainerState[]>("list", { all: flags.all === true || filters.some((f) => f.key === "status") });
  warnIfStale(list);
  for (const f of filters) {
    list = list.filter((c) => {
      if (f.key === "status") return c.status === f.value || (f.value === "exited" && c.status === "stopped");
      if (f.key === "id") return c.id.startsWith(f.value);
      const [k, v] = f.value.split("=");
      return c.config.labels[k!] !== undefined && (v === undefined || c.config.labels[k!] === v);
    });
  }
  if (flags.quiet) for (const c of list) out(c.id);
  else if (format === "json") out(JSON.stringify(list.map(inspectOf), null, 2));
  else out(table(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PID"], list.map(row)));
  return 0;
}

const row = (c: ContainerState): string[] => [
  c.id,
  "image" in c.config.rootfs ? c.config.rootfs.image : c.config.rootfs.path,
  truncate(shellQuote(c.config.init.args), 30),
  ago(c.createdAt),
  statusText(c),
  c.pid !== undefined && c.status === "running" ? String(c.pid) : "",
];

interface Sample {
  at: number;
  stats: Statistics;
}

/** docker's formulas: CPU % is CPU time over wall time (100% = one core); MEM % is usage / limit. */
export function statsRow(id: string, prev: Sample | undefined, cur: Sample): string[] {
  const wallUsec = prev ? (cur.at - prev.at) * 1000 : 0;
  const cpu = prev && wallUsec > 0 ? ((cur.stats.cpuUsageUsec - prev.stats.cpuUsageUsec) / wallUsec) * 100 : 0;
  const limit = cur.stats.memoryLimitBytes ?? totalmem();
  const s = cur.stats;
  return [
    id,
    `${cpu.toFixed(2)}%`,
    `${humanBytes(s.memoryUsageBytes, true)} / ${humanBytes(limit, true)}`,
    `${((s.memoryUsageBytes / limit) * 100).toFixed(2)}%`,
    `${humanBytes(s.networkRxBytes)} / ${humanBytes(s.networkTxBytes)}`,
    `${humanBytes(s.blockReadBytes)} / ${humanBytes(s.blockWriteBytes)}`,
    String(s.processCount),
  ];
}

const STATS_HEADER = ["CONTAINER ID", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"];

export async function stats(session: Session, flags: { stream?: boolean; format?: string }, ids: string[]): Promise<number> {
  checkIds(ids);
  const format = parseFormat(flags.format);
  const ipc = await session.ipc();
  const targets = ids.length > 0 ? ids : (await ipc.call<ContainerState[]>("list", {})).map((c) => c.id);
  const prev = new Map<string, Sample>();
  const sample = async () => {
    const rows: { id: string; prev: Sample | undefined; cur: Sample }[] = [];
    for (const id of targets) {
      try {
        const cur = { at: Date.now(), stats: await ipc.call<Statistics>("statistics", { id }) };
        rows.push({ id, prev: prev.get(id), cur });
        prev.set(id, cur);
      } catch (err) {
        if (ids.length > 0) throw err; // a named container must be there; a listed one may have just stopped
      }
    }
    return rows;
  };
  // CPU % needs two readings, so even --no-stream reads twice (docker does the same).
  await sample();
  let stopped = false;
  process.once("SIGINT", () => (stopped = true));
  for (;;) {
    await new Promise((r) => setTimeout(r, flags.stream === false ? 500 : 1000));
    const rows = await sample();
    if (format === "json") {
      out(JSON.stringify(rows.map((r) => ({ id: r.id, ...r.cur.stats, cpuPercent: Number(statsRow(r.id, r.prev, r.cur)[1]!.slice(0, -1)) }))));
    } else {
      if (flags.stream !== false && process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
      out(table(STATS_HEADER, rows.map((r) => statsRow(r.id, r.prev, r.cur))));
    }
    if (flags.stream === false || stopped) return 0;
  }
}
