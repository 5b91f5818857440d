// How a process ended: one shape from the driver that saw it, through the runtime service and
// its exit record, to the ProcessExited event and the reply to `wait`. Inside berth a time is
// epoch milliseconds; ISO 8601 text appears only at two edges, the exit record files
// (src/vm/exits.ts) and the client wire (toExitStatus).
import { normaliseSignal } from "./config.js";

export interface Exit {
  processId: string;
  /** Host pid of the process (with the exit time, what makes an exit unique). */
  pid: number;
  /** 0-255; 128+N when killed by signal N. */
  exitCode: number;
  /** Canonical signal name ("SIGKILL") when the process died from a signal; absent otherwise. */
  signal?: string;
  oomKilled: boolean;
  /** Milliseconds since the epoch, as the process owner observed it. */
  exitedAt: number;
}

/** An exit as a client receives it (RuntimeClient.wait): the time as ISO 8601 text. */
export type ExitStatus = Omit<Exit, "processId" | "pid" | "exitedAt"> & { exitedAt: string };

/** The one conversion to the client wire. */
export function toExitStatus(exit: Omit<Exit, "processId" | "pid">): ExitStatus {
  const status: ExitStatus = { exitCode: exit.exitCode, exitedAt: new Date(exit.exitedAt).toISOString(), oomKilled: exit.oomKilled };
  if (exit.signal) status.signal = exit.signal;
  return status;
}

/**
 * An Exit from what a file or a runtime service holds, of any version: exitedAt as epoch ms or
 * as ISO text (records on disk, and services started before the daemon was upgraded, carry the
 * text), and "no signal" as null or absent. Undefined when it is not an exit at all. The copy
 * carries exactly Exit's fields, so nothing else (a record's ackedAt) reaches the journal.
 */
export function parseExit(v: unknown): Exit | undefined {
  if (!v || typeof v !== "object") return undefined;
  const r = v as Record<string, unknown>;
  const exitedAt = typeof r.exitedAt === "string" ? Date.parse(r.exitedAt) : r.exitedAt;
  if (typeof r.processId !== "string" || typeof r.pid !== "number" || typeof r.exitCode !== "number" || typeof exitedAt !== "number" || !Number.isFinite(exitedAt)) return undefined;
  const exit: Exit = { processId: r.processId, pid: r.pid, exitCode: r.exitCode, exitedAt, oomKilled: r.oomKilled === true };
  if (typeof r.signal === "string" && r.signal) exit.signal = r.signal;
  return exit;
}

/**
 * The signal an exit code above 128 names, but only when there is evidence that the signal was
 * sent: conmon's exit file holds just 128+N, so a plain `exit 137` and a SIGKILL look alike.
 * `sent` lists the signals berth sent the process (journaled SignalSent, or a teardown's kill).
 */
export function signalOf(exitCode: number, sent: Iterable<string>): string | undefined {
  if (exitCode <= 128) return undefined;
  const name = normaliseSignal(exitCode - 128);
  if (!name.ok) return undefined;
  for (const s of sent) if (s === name.value) return name.value;
  return undefined;
}
