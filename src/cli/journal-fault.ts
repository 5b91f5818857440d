// What the CLI says about a daemon that lost its journal: the fault's one line, the stale
// warning on replies the daemon made from memory (ls, inspect), and the fault itself for
// `journal verify`.
import type { DaemonInfo } from "../daemon/system-routes.js";
import type { JournalFault } from "../events/identity.js";
import { socketPath } from "../host/root-layout.js";

export const faultLine = (fault: JournalFault) =>
  `${fault.message} (noticed ${new Date(fault.detectedAt).toISOString()}); the daemon refuses commands until it is restarted with its journal restored`;

/** One warning on stderr for replies the daemon made from memory after losing its journal. */
export function warnIfStale(replies: readonly object[]): void {
  const stale = (replies as { stale?: JournalFault }[]).find((r) => r.stale)?.stale;
  if (stale) process.stderr.write(`berth: warning: stale: this answer comes from the daemon's memory: ${faultLine(stale)}\n`);
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
