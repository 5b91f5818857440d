// `berth info` (also `berth system info`): the daemon's status in docker info's shape: the
// containers by status, the versions of berth, runc and conmon, the root, the driver, and the
// journal (file, size, head, and whether the daemon still accepts commands), and the fleet
// shipper's state and lag.
import type { DaemonInfo } from "../../daemon/system-routes.js";
import { berthVersion } from "../../host/package-info.js";
import type { Session } from "../context.js";
import { humanBytes } from "../format.js";
import { shipSummary } from "../../fleet/ship-report.js";
import { faultLine } from "../journal-fault.js";
import { out } from "../output.js";
import { render } from "../template.js";
import type { LeafCommand } from "./command.js";

export const INFO_EXAMPLES = ["berth info", "berth info --format '{{.ContainersRunning}} running of {{.Containers}}'", "berth info --format json"];

export const command: LeafCommand = {
  kind: "command",
  name: "info",
  description: "the daemon's status: containers by status, versions, root, driver, journal size and head, fleet shipping",
  format: "template",
  examples: INFO_EXAMPLES,
  action: (s, o) => info(s, o),
};

/** What `info --format` templates see: docker info's field names where docker has the fact. */
export function infoView(i: DaemonInfo) {
  const count = (...statuses: string[]) => statuses.reduce((n, s) => n + (i.containers[s] ?? 0), 0);
  const running = count("running", "stopping");
  const paused = count("paused");
  const total = i.containers.total ?? 0;
  return {
    Containers: total,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: total - running - paused,
    ContainersByStatus: Object.fromEntries(Object.entries(i.containers).filter(([k]) => k !== "total")),
    Images: i.images,
    ServerVersion: i.version,
    ClientVersion: berthVersion(),
    Driver: "overlay",
    DefaultRuntime: i.driver,
    Runtimes: { runc: i.runtimes.runc, conmon: i.runtimes.conmon },
    RootDir: i.root,
    DaemonPid: i.pid,
    Journal: { Path: i.journal.path, SizeBytes: i.journal.sizeBytes, HeadPosition: i.journal.head.position, HeadHash: i.journal.head.hash, Status: i.journal.fault ? `REFUSING COMMANDS: ${faultLine(i.journal.fault)}` : "ok" },
    Orphans: i.orphans,
    Shipping: i.shipping ? shipSummary(i.shipping) : "off",
  };
}

export function infoLines(i: DaemonInfo): string[] {
  const v = infoView(i);
  return [
    "Client:",
    ` Version: ${v.ClientVersion}`,
    "",
    "Server:",
    ` Containers: ${v.Containers}`,
    `  Running: ${v.ContainersRunning}`,
    `  Paused: ${v.ContainersPaused}`,
    `  Stopped: ${v.ContainersStopped}`,
    ` Images: ${v.Images}`,
    ` Server Version: ${v.ServerVersion}`,
    ` Storage Driver: ${v.Driver}`,
    ` Default Runtime: ${v.DefaultRuntime}`,
    ` runc Version: ${v.Runtimes.runc}`,
    ` conmon Version: ${v.Runtimes.conmon}`,
    ` Root Dir: ${v.RootDir}`,
    ` Daemon Pid: ${v.DaemonPid}`,
    ` Journal: ${v.Journal.Path}`,
    `  Size: ${humanBytes(v.Journal.SizeBytes)}`,
    `  Head: position ${v.Journal.HeadPosition}, hash ${v.Journal.HeadHash.slice(0, 12)}`,
    `  Status: ${v.Journal.Status}`,
    ` Orphans: ${v.Orphans}${v.Orphans ? " (berth system prune --orphans removes them)" : ""}`,
    ` Fleet shipping: ${v.Shipping}`,
  ];
}

export async function info(session: Session, flags: { format?: string }): Promise<number> {
  const i = await (await session.ipc()).call<DaemonInfo>("info", {});
  const format = flags.format ?? "table";
  if (format === "json") out(JSON.stringify(i, null, 2));
  else if (format === "table") for (const l of infoLines(i)) out(l);
  else for (const l of render(format, [infoView(i)], {}, "system.Info")) out(l);
  return 0;
}
