// `berth ls` (`ps`): list containers, filtered.
import { BerthError } from "../../model/errors.js";
import type { ContainerState } from "../../projections/container.js";
import { collect } from "../container-options.js";
import type { Session } from "../context.js";
import { ago, parseFormat, shellQuote, table, truncate } from "../format.js";
import { inspectOf, statusText } from "../inspect.js";
import { warnIfStale } from "../journal-fault.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "ls",
  aliases: ["ps"],
  description: "list containers",
  format: true,
  examples: ["berth ls", "berth ls -a", "berth ls -q --filter status=running", "berth ls --format json"],
  flags: (cmd) => cmd
    .option("-a, --all", "include created and stopped containers")
    .option("-q, --quiet", "only ids")
    .option("--filter <key=value>", "status=S, id=PREFIX or label=K[=V] (repeatable)", collect, []),
  action: (s, o) => ls(s, o as never),
};

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
