// `berth inspect` output: a pure function of the projected ContainerState, so `journal replay`
// prints exactly what the live daemon would have printed at the same journal position.
import type { ContainerState } from "../projections/container.js";
import { iso } from "./format.js";

export interface InspectProcess {
  id: string;
  args: string[];
  status: string;
  pid: number | null;
  startedAt: string | null;
  exitedAt: string | null;
  exitCode: number | null;
  signal: string | null;
  lastSignal: string | null;
  error: { code: string; message: string } | null;
}

export interface Inspect {
  id: string;
  /** What users call it: its id until a `rename`. */
  name: string;
  status: string;
  config: ContainerState["config"];
  createdAt: string | null;
  pid: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  oomKilled: boolean;
  lastError: { code: string; message: string } | null;
  processes: InspectProcess[];
  restartCount: number;
  runtime: { driver: string; pid: number } | null;
  /** Journal position of the last event folded into this state. */
  position: number;
}

export function inspectOf(s: ContainerState): Inspect {
  return {
    id: s.id,
    name: s.name ?? s.id,
    status: s.status,
    config: s.config,
    createdAt: iso(s.createdAt),
    pid: s.pid ?? null,
    startedAt: iso(s.startedAt),
    finishedAt: iso(s.finishedAt),
    exitCode: s.exitCode ?? null,
    oomKilled: s.oomKilled ?? false,
    lastError: s.lastError ? { code: s.lastError.code, message: s.lastError.message } : null,
    processes: Object.values(s.processes).map((p) => ({
      id: p.id,
      args: p.spec.args,
      status: p.status,
      pid: p.pid ?? null,
      startedAt: iso(p.startedAt),
      exitedAt: iso(p.exitedAt),
      exitCode: p.exitCode ?? null,
      signal: p.signal ?? null,
      lastSignal: p.lastSignal ?? null,
      error: p.error ? { code: p.error.code, message: p.error.message } : null,
    })),
    restartCount: s.restartCount,
    runtime: s.runtime ? { driver: s.runtime.driver, pid: s.runtime.pid } : null,
    position: s.position,
  };
}

/** What `ls` and `journal replay` show per container: STATUS is docker's "Exited (3)". */
export function statusText(s: ContainerState): string {
  if (s.status === "stopped") return `exited (${s.exitCode ?? "?"})`;
  return s.status;
}
