// `berth stats`: live resource usage, as docker stats computes it, in docker's table or through
// a Go template over docker's stats fields (formatter.StatsEntry).
import { totalmem } from "node:os";
import type { ContainerState } from "../../projections/container.js";
import type { Statistics } from "../../vm/driver.js";
import { checkIds } from "../container-options.js";
import type { Session } from "../context.js";
import { humanBytes } from "../format.js";
import { out } from "../output.js";
import { parseTemplate, render } from "../template.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "stats",
  description: "live resource usage: CPU %, memory, network and block I/O, pids",
  format: "template",
  examples: [
    "berth stats",
    "berth stats --no-stream w",
    "berth stats --no-stream --format 'table {{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}'",
    "berth stats --no-stream --format '{{json .}}'",
  ],
  flags: (cmd) => cmd
    .option("--no-stream", "print one reading and exit")
    .argument("[id...]", "container ids (default: all running)"),
  action: (s, o, args) => stats(s, o, args),
};

interface Sample {
  at: number;
  stats: Statistics;
}

/** docker's formatter.StatsEntry: the fields `stats --format` knows. */
export interface StatsView {
  /** The container as the command line named it (its id when listing all). */
  Container: string;
  ID: string;
  Name: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
}

/** docker's formulas: CPU % is CPU time over wall time (100% = one core); MEM % is usage / limit. */
export function statsView(c: { container: string; id: string; name: string }, prev: Sample | undefined, cur: Sample): StatsView {
  const wallUsec = prev ? (cur.at - prev.at) * 1000 : 0;
  const cpu = prev && wallUsec > 0 ? ((cur.stats.cpuUsageUsec - prev.stats.cpuUsageUsec) / wallUsec) * 100 : 0;
  const limit = cur.stats.memoryLimitBytes ?? totalmem();
  const s = cur.stats;
  return {
    Container: c.container,
    ID: c.id,
    Name: c.name,
    CPUPerc: `${cpu.toFixed(2)}%`,
    MemUsage: `${humanBytes(s.memoryUsageBytes, true)} / ${humanBytes(limit, true)}`,
    MemPerc: `${((s.memoryUsageBytes / limit) * 100).toFixed(2)}%`,
    NetIO: `${humanBytes(s.networkRxBytes)} / ${humanBytes(s.networkTxBytes)}`,
    BlockIO: `${humanBytes(s.blockReadBytes)} / ${humanBytes(s.blockWriteBytes)}`,
    PIDs: String(s.processCount),
  };
}

/** docker stats' column names and default table. */
export const STATS_HEADERS: Record<string, string> = {
  Container: "CONTAINER", ID: "CONTAINER ID", Name: "NAME", CPUPerc: "CPU %", MemUsage: "MEM USAGE / LIMIT", MemPerc: "MEM %", NetIO: "NET I/O", BlockIO: "BLOCK I/O", PIDs: "PIDS",
};
export const STATS_TABLE = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

export async function stats(session: Session, flags: { stream?: boolean; format?: string }, ids: string[]): Promise<number> {
  checkIds(ids);
  const format = flags.format ?? "table";
  if (format !== "table" && format !== "json") parseTemplate(format); // a bad template fails before any reading
  const ipc = await session.ipc();
  const listed = await ipc.call<ContainerState[]>("list", { all: ids.length > 0 });
  const named = (arg: string) => listed.find((c) => c.id === arg) ?? listed.find((c) => c.name === arg);
  const targets = (ids.length > 0 ? ids : listed.map((c) => c.id)).map((arg) => {
    const c = named(arg);
    return { container: arg, id: c?.id ?? arg, name: c?.name ?? c?.id ?? arg };
  });
  const prev = new Map<string, Sample>();
  const sample = async () => {
    const rows: { target: (typeof targets)[number]; prev: Sample | undefined; cur: Sample }[] = [];
    for (const target of targets) {
      const { id } = target;
      try {
        const cur = { at: Date.now(), stats: await ipc.call<Statistics>("statistics", { id }) };
        rows.push({ target, prev: prev.get(id), cur });
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
    const views = rows.map((r) => statsView(r.target, r.prev, r.cur));
    // `--format json` is berth's own reading (bytes and µs, one array a reading); `{{json .}}` is docker's line.
    if (format === "json") {
      out(JSON.stringify(rows.map((r, i) => ({ id: r.target.id, ...r.cur.stats, cpuPercent: Number(views[i]!.CPUPerc.slice(0, -1)) }))));
    } else {
      if (flags.stream !== false && process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
      for (const line of render(format === "table" ? STATS_TABLE : format, views, STATS_HEADERS, "*formatter.statsContext")) out(line);
    }
    if (flags.stream === false || stopped) return 0;
  }
}
