// `berth ls` (`ps`): list containers, newest first, filtered, as docker ps.
import { BerthError } from "../../model/errors.js";
import type { ContainerState } from "../../projections/container.js";
import { containerPaths } from "../../vm/paths.js";
import { diskUsage } from "../../vm/disk-usage.js";
import { collect } from "./command.js";
import type { Session } from "../context.js";
import { dockerState, psView, PS_HEADERS, PS_TABLE, PS_TABLE_SIZE } from "../docker-view.js";
import { inspectOf } from "../inspect.js";
import { warnIfStale } from "../journal-fault.js";
import { out } from "../output.js";
import { render } from "../template.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "ls",
  aliases: ["ps"],
  description: "list containers, newest first (running and paused ones; -a: all)",
  format: "template",
  examples: [
    "berth ps",
    "berth ps -a",
    "berth ps -q --filter status=exited",
    "berth ps --filter name=web --filter label=team=a",
    "berth ps -n 2 -s",
    "berth ps --format 'table {{.Names}}\\t{{.Status}}'",
    "berth ps --format '{{.ID}} {{index .Labels \"team\"}}'",
    "berth ps --format json",
  ],
  flags: (cmd) => cmd
    .option("-a, --all", "include created and stopped containers")
    .option("-q, --quiet", "only ids")
    .option("-n, --last <n>", "the n most recently created containers (any status)")
    .option("-l, --latest", "the most recently created container (any status)")
    .option("-s, --size", "the size of each container's writable layer")
    .option("--no-trunc", "do not truncate COMMAND")
    .option("--filter <key=value>", "name=S, id=PREFIX, label=K[=V], status=created|running|paused|exited (repeatable: the same key ORs, different keys AND)", collect, []),
  action: (s, o) => ls(s, o as never),
};

export interface LsFlags {
  all?: boolean;
  quiet?: boolean;
  last?: string;
  latest?: boolean;
  size?: boolean;
  /** commander's --no-trunc: false when given. */
  trunc?: boolean;
  filter: string[];
  format?: string;
}

const FILTER_KEYS = ["name", "id", "label", "status"] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
const DOCKER_STATES = ["created", "restarting", "running", "removing", "paused", "exited", "dead"];

/** `--filter` values grouped by key: docker ORs the values of one key and ANDs the keys. */
export function parseFilters(filters: string[]): Map<FilterKey, string[]> {
  const byKey = new Map<FilterKey, string[]>();
  for (const f of filters) {
    const eq = f.indexOf("=");
    const key = f.slice(0, eq) as FilterKey;
    const value = f.slice(eq + 1);
    if (eq < 0 || !FILTER_KEYS.includes(key) || value === "") throw new BerthError("invalidArgument", `invalid --filter "${f}": expected name=S, id=ID, label=K[=V] or status=S`);
    if (key === "status" && !DOCKER_STATES.includes(value) && value !== "stopped") {
      throw new BerthError("invalidArgument", `invalid --filter "${f}": status is one of ${DOCKER_STATES.join(", ")}`);
    }
    byKey.set(key, [...(byKey.get(key) ?? []), value]);
  }
  return byKey;
}

function matches(c: ContainerState, key: FilterKey, value: string): boolean {
  switch (key) {
    case "name": return (c.name ?? c.id).includes(value); // docker matches a substring of the name
    case "id": return c.id.startsWith(value);
    case "status": return dockerState(c) === (value === "stopped" ? "exited" : value);
    case "label": {
      const [k, ...v] = value.split("=");
      return c.config.labels[k!] !== undefined && (v.length === 0 || c.config.labels[k!] === v.join("="));
    }
  }
}

/** Filters, orders newest first and cuts to -n / -l: a pure function of the listed states. */
export function select(list: ContainerState[], flags: Pick<LsFlags, "all" | "last" | "latest" | "filter">): ContainerState[] {
  const filters = parseFilters(flags.filter);
  let last = flags.latest ? 1 : undefined;
  if (flags.last !== undefined) {
    if (!/^-?\d+$/.test(flags.last)) throw new BerthError("invalidArgument", `invalid -n "${flags.last}": expected a number`);
    if (Number(flags.last) >= 0) last = Number(flags.last);
  }
  const everything = flags.all || last !== undefined || filters.has("status");
  let chosen = list.filter((c) => everything || ["running", "stopping", "paused"].includes(c.status));
  for (const [key, values] of filters) chosen = chosen.filter((c) => values.some((v) => matches(c, key, v)));
  chosen.sort((a, b) => b.createdAt - a.createdAt || b.position - a.position);
  return last === undefined ? chosen : chosen.slice(0, last);
}

export async function ls(session: Session, flags: LsFlags): Promise<number> {
  const format = flags.format ?? "table";
  const ipc = await session.ipc();
  const listed = await ipc.call<ContainerState[]>("list", { all: true });
  warnIfStale(listed);
  const list = select(listed, flags);
  if (flags.quiet) {
    for (const c of list) out(c.id);
    return 0;
  }
  if (format === "json") {
    out(JSON.stringify(list.map(inspectOf), null, 2));
    return 0;
  }
  const now = Date.now();
  const sized = flags.size || /\.Size\b/.test(format);
  const views = list.map((c) => psView(c, now, sized ? diskUsage(`${containerPaths(session.root, c.id).overlay}/upper`) : undefined, flags.trunc === false));
  const template = format === "table" ? (flags.size ? PS_TABLE_SIZE : PS_TABLE) : format;
  for (const line of render(template, views, PS_HEADERS, "*formatter.ContainerContext")) out(line);
  return 0;
}
