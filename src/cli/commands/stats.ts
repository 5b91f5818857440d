// `berth stats`: live resource usage, as docker stats computes it.
import { totalmem } from "node:os";
import type { ContainerState } from "../../projections/container.js";
import type { Statistics } from "../../vm/driver.js";
import { checkIds } from "../container-options.js";
import type { Session } from "../context.js";
import { humanBytes, parseFormat, table } from "../format.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "stats",
  description: "live resource usage: CPU %, memory, network and block I/O, pids",
  format: true,
  examples: ["berth stats", "berth stats --no-stream w"],
  flags: (cmd) => cmd
    .option("--no-stream", "print one reading and exit")
    .argument("[id...]", "container ids (default: all running)"),
  action: (s, o, args) => stats(s, o, args),
};

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
