// `berth system df`: disk used by images, containers' writable layers and the journal, in
// docker system df's table (TYPE TOTAL ACTIVE SIZE RECLAIMABLE), plus a Journal row.
import type { DaemonInfo } from "../daemon/system-routes.js";
import type { ContainerState } from "../projections/container.js";
import { diskUsage } from "../vm/disk-usage.js";
import { containerPaths, imageRootfs, imagesDir } from "../vm/paths.js";
import { readdirSync } from "node:fs";
import type { Session } from "./context.js";
import { imageOf } from "./docker-view.js";
import { humanBytes } from "./format.js";
import { out } from "./output.js";
import { render } from "./template.js";

export interface DfRow {
  Type: string;
  TotalCount: number;
  Active: number;
  Size: string;
  Reclaimable: string;
}

const DF_TABLE = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
const DF_HEADERS = { Type: "TYPE", TotalCount: "TOTAL", Active: "ACTIVE", Size: "SIZE", Reclaimable: "RECLAIMABLE" };

const reclaim = (bytes: number, of: number) => `${humanBytes(bytes)}${of > 0 ? ` (${Math.floor((bytes * 100) / of)}%)` : ""}`;

/** One row per kind, from the sizes measured: a pure function, so its shape is testable. */
export function dfRows(images: { name: string; size: number }[], containers: { state: ContainerState; size: number }[], journalBytes: number): DfRow[] {
  const live = (c: ContainerState) => ["running", "stopping", "paused"].includes(c.status);
  const used = new Set(containers.map((c) => imageOf(c.state)));
  const imageBytes = images.reduce((n, i) => n + i.size, 0);
  const unusedImages = images.filter((i) => !used.has(i.name));
  const containerBytes = containers.reduce((n, c) => n + c.size, 0);
  const idle = containers.filter((c) => !live(c.state));
  return [
    { Type: "Images", TotalCount: images.length, Active: images.length - unusedImages.length, Size: humanBytes(imageBytes), Reclaimable: reclaim(unusedImages.reduce((n, i) => n + i.size, 0), imageBytes) },
    { Type: "Containers", TotalCount: containers.length, Active: containers.length - idle.length, Size: humanBytes(containerBytes), Reclaimable: reclaim(idle.reduce((n, c) => n + c.size, 0), containerBytes) },
    { Type: "Local Volumes", TotalCount: 0, Active: 0, Size: "0B", Reclaimable: "0B" },
    { Type: "Build Cache", TotalCount: 0, Active: 0, Size: "0B", Reclaimable: "0B" },
    { Type: "Journal", TotalCount: 1, Active: 1, Size: humanBytes(journalBytes), Reclaimable: "0B" },
  ];
}

function imageNames(root: string): string[] {
  try {
    return readdirSync(imagesDir(root), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return []; // no image yet
  }
}

export async function systemDf(session: Session, flags: { format?: string }): Promise<number> {
  const ipc = await session.ipc();
  const [list, info] = await Promise.all([ipc.call<ContainerState[]>("list", { all: true }), ipc.call<DaemonInfo>("info", {})]);
  const images = imageNames(session.root).map((name) => ({ name, size: diskUsage(imageRootfs(session.root, name)) }));
  const containers = list.map((state) => ({ state, size: diskUsage(`${containerPaths(session.root, state.id).overlay}/upper`) }));
  const rows = dfRows(images, containers, info.journal.sizeBytes);
  const format = flags.format ?? "table";
  if (format === "json") for (const r of rows) out(JSON.stringify(r));
  else for (const l of render(format === "table" ? DF_TABLE : format, rows, DF_HEADERS, "*formatter.diskUsageContext")) out(l);
  return 0;
}
