// `berth system info|df|prune`: the daemon's own state (is its journal still the file it opened?
// what orphans are under the root?), the disk it uses, and docker's prune: stopped containers, and with
// --orphans whatever the journal does not know, after a confirmation that -f skips.
import { describeOrphan, type Orphan } from "../../events/catalogue.js";
import type { Session } from "../context.js";
import { allows } from "../../model/lifecycle.js";
import type { ContainerState } from "../../projections/container.js";
import { diskUsage } from "../../vm/disk-usage.js";
import { containerPaths } from "../../vm/paths.js";
import { humanBytes } from "../format.js";
import { systemDf } from "../system-df.js";
import { confirm } from "../confirm.js";
import { out } from "../output.js";
import type { CommandGroup } from "./command.js";
import { info, INFO_EXAMPLES } from "./info.js";

export const command: CommandGroup = {
  kind: "group",
  name: "system",
  description: "the daemon's status, and pruning",
  examples: ["berth system info", "berth system df", "berth system prune -f", "berth system prune --orphans"],
  subcommands: [
    {
      kind: "command",
      name: "info",
      description: "the daemon's status: containers by status, versions, root, driver, its journal (or what happened to it) and orphans (as berth info)",
      format: "template",
      examples: INFO_EXAMPLES.map((e) => e.replace("berth info", "berth system info")),
      action: (s, o) => info(s, o),
    },
    {
      kind: "command",
      name: "df",
      description: "disk used by images, containers' writable layers and the journal",
      format: "template",
      examples: ["berth system df", "berth system df --format '{{.Type}}: {{.Size}}'"],
      action: (s, o) => systemDf(s, o),
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
  // Measured before the prune: a deleted container's writable layer is gone afterwards.
  const listed = await ipc.call<ContainerState[]>("list", { all: true });
  const sizes = new Map(listed.filter((c) => allows("delete", c.status)).map((c) => [c.id, diskUsage(`${containerPaths(session.root, c.id).overlay}/upper`)]));
  const result = await ipc.call<{ containers: string[]; orphans: Orphan[] }>("prune", body);
  if (result.containers.length) out(["Deleted Containers:", ...result.containers, ""].join("\n"));
  if (result.orphans.length) out(["Removed Orphans:", ...result.orphans.map(describeOrphan), ""].join("\n"));
  out(`Total reclaimed space: ${humanBytes(result.containers.reduce((n, id) => n + (sizes.get(id) ?? 0), 0))}`);
  return 0;
}

