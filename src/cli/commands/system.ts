// `berth system info|prune`: the daemon's own state (is its journal still the file it opened?
// what orphans are under the root?) and docker's prune: stopped containers, and with
// --orphans whatever the journal does not know, after a confirmation that -f skips.
import type { DaemonInfo } from "../../daemon/system-routes.js";
import { BerthError } from "../../model/errors.js";
import { describeOrphan, type Orphan } from "../../events/catalogue.js";
import type { Session } from "../context.js";
import { parseFormat } from "../format.js";
import { confirm } from "../confirm.js";
import { faultLine } from "../journal-fault.js";
import { out } from "../output.js";
import type { CommandGroup } from "./command.js";

export const command: CommandGroup = {
  kind: "group",
  name: "system",
  description: "the daemon's status, and pruning",
  examples: ["berth system info", "berth system prune -f", "berth system prune --orphans"],
  subcommands: [
    {
      kind: "command",
      name: "info",
      description: "the daemon's status: its journal (or what happened to it), containers and orphans",
      format: true,
      examples: ["berth system info", "berth system info --format json"],
      action: (s, o) => info(s, o),
    },
    {
      kind: "command",
      name: "prune",
      description: "remove stopped containers; with --orphans also kill and remove what the journal does not know",
      examples: ["berth system prune", "berth system prune -f", "berth system prune --orphans -f"],
      flags: (cmd) => cmd
        .option("-f, --force", "do not ask for confirmation")
        .option("--orphans", "also kill and remove orphans: runc containers, runtime services, mounts and directories under the root that the journal does not know"),
      action: (s, o) => prune(s, o),
    },
  ],
};

export async function info(session: Session, flags: { format?: string }): Promise<number> {
  const format = parseFormat(flags.format);
  const info = await (await session.ipc()).call<DaemonInfo>("info", {});
  if (format === "json") {
    out(JSON.stringify(info, null, 2));
    return 0;
  }
  const { journal } = info;
  out(`daemon: pid ${info.pid}, root ${info.root}`);
  out(`journal: ${journal.path}, head position ${journal.head.position}`);
  out(`status: ${journal.fault ? `REFUSING COMMANDS: ${faultLine(journal.fault)}` : "ok"}`);
  const counts = Object.entries(info.containers).filter(([k]) => k !== "total").map(([k, n]) => `${n} ${k}`);
  out(`containers: ${info.containers.total}${counts.length ? ` (${counts.join(", ")})` : ""}`);
  out(`orphans: ${info.orphans}${info.orphans ? " (berth system prune --orphans removes them)" : ""}`);
  return 0;
}

export interface PruneFlags {
  force?: boolean;
  orphans?: boolean;
}

export async function prune(session: Session, flags: PruneFlags): Promise<number> {
  const ipc = await session.ipc();
  let keys: string[] | undefined;
  if (!flags.force) {
    const found = flags.orphans ? await ipc.call<{ orphan: Orphan; key: string }[]>("orphans", {}) : [];
    const lines = ["WARNING! This will remove:", "  - all stopped containers"];
    if (flags.orphans) {
      lines.push(`  - ${found.length} orphan${found.length === 1 ? "" : "s"} (killing their processes):`, ...found.map((o) => `      ${describeOrphan(o.orphan)}`));
    }
    if (!(await confirm(lines.join("\n"), flags.orphans ? "system prune --orphans" : "system prune"))) return 0;
    keys = flags.orphans ? found.map((o) => o.key) : undefined;
  }
  const body: Record<string, unknown> = { orphans: flags.orphans === true };
  if (keys) body.keys = keys;
  const result = await ipc.call<{ containers: string[]; orphans: Orphan[] }>("prune", body);
  if (result.containers.length) out(["Deleted Containers:", ...result.containers].join("\n"));
  if (result.orphans.length) out(["Removed Orphans:", ...result.orphans.map(describeOrphan)].join("\n"));
  if (!result.containers.length && !result.orphans.length) out("Nothing to prune");
  return 0;
}

