// `berth system info|prune`: the daemon's own state (is its journal still the file it opened?
// what orphans are under the root?) and docker's prune: stopped containers, and with
// --orphans whatever the journal does not know, after a confirmation that -f skips.
import { createInterface } from "node:readline/promises";
import type { DaemonInfo } from "../daemon/system-routes.js";
import { BerthError } from "../model/errors.js";
import type { JournalFault } from "../events/identity.js";
import { describeOrphan, type Orphan } from "../events/catalogue.js";
import { socketPath } from "../host/root-layout.js";
import type { Session } from "./context.js";
import { parseFormat } from "./format.js";

const out = (line: string) => process.stdout.write(`${line}\n`);

export const faultLine = (fault: JournalFault) =>
  `${fault.message} (noticed ${new Date(fault.detectedAt).toISOString()}); the daemon refuses commands until it is restarted with its journal restored`;

/** One warning on stderr for replies the daemon made from memory after losing its journal. */
export function warnIfStale(replies: readonly object[]): void {
  const stale = (replies as { stale?: JournalFault }[]).find((r) => r.stale)?.stale;
  if (stale) process.stderr.write(`berth: warning: stale: this answer comes from the daemon's memory: ${faultLine(stale)}\n`);
}

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

/**
 * The daemon's journal fault, if a daemon serves this root and says its journal is gone; undefined
 * when none runs (then the file is the whole truth). For `journal verify`.
 */
export async function daemonJournalFault(root: string): Promise<{ pid: number; fault: JournalFault } | undefined> {
  const { IpcClient } = await import("../ipc/client.js");
  let client;
  try {
    client = await IpcClient.connect(socketPath(root), { timeoutMs: 10_000 });
  } catch {
    // No daemon answering: there is no daemon-side fault to report.
    return undefined;
  }
  try {
    const info = await client.call<DaemonInfo>("info", {});
    return info.journal.fault ? { pid: info.pid, fault: info.journal.fault } : undefined;
  } catch {
    return undefined; // an older daemon without `info`
  } finally {
    client.close();
  }
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

/** docker's prompt. Without a terminal to ask on, refuse rather than guess. */
async function confirm(warning: string, what: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new BerthError("invalidArgument", `${what} asks for confirmation, but stdin is not a terminal: pass -f (--force) to prune without asking`);
  }
  process.stderr.write(`${warning}\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question("Are you sure you want to continue? [y/N] ");
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
