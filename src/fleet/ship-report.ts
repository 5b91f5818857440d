// The fleet shipper's part of `berth journal stats` and `berth info`: its state and error from the status file
// the daemon writes (src/fleet/status.ts), and its lag from the journal itself: the positions
// after the `ship` checkpoint, and how long ago the oldest of them was committed.
import type { Journal } from "../events/journal.js";
import { readShipStatus, SHIP_CHECKPOINT } from "./status.js";

export interface ShipReport {
  node?: string;
  servers?: string;
  /** The shipper replaces env values in what it ships (--ship-redact-env). */
  redactEnv?: boolean;
  state: string;
  acked: number;
  lagPositions: number;
  lagSeconds: number;
  error?: { code: string; fault: string; message: string };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export function shipping(root: string, journal: Journal, now = Date.now()): ShipReport | undefined {
  const status = readShipStatus(root);
  const checkpoint = journal.checkpoint(SHIP_CHECKPOINT);
  if (!status && checkpoint === 0) return undefined;
  const running = status !== undefined && alive(status.pid);
  const acked = Math.max(checkpoint, running ? status.acked : 0);
  const head = journal.head().position;
  const oldest = acked < head ? journal.rowsAfter(acked, 1)[0] : undefined;
  return {
    node: status?.node,
    servers: status?.servers,
    ...(status?.redactEnv ? { redactEnv: true } : {}),
    state: running ? status.state : "not running (no daemon ships this journal)",
    acked,
    lagPositions: Math.max(0, head - acked),
    lagSeconds: oldest ? Math.max(0, (now - oldest.time) / 1000) : 0,
    ...(status?.error && running ? { error: status.error } : {}),
  };
}

/** `journal stats`'s line: "shipping as node N to S: state, acknowledged …". */
export function shipLine(r: ShipReport): string {
  const where = whereOf(r);
  return `shipping${where ? ` ${where}` : ""}: ${progressOf(r)}`;
}

/** The same without its label, for `info`'s "Fleet shipping:" line. */
export function shipSummary(r: ShipReport): string {
  const where = whereOf(r);
  return where ? `${where}: ${progressOf(r)}` : progressOf(r);
}

const whereOf = (r: ShipReport) => (r.node ? `as node ${r.node} to ${r.servers}${r.redactEnv ? " (env values redacted)" : ""}` : undefined);

function progressOf(r: ShipReport): string {
  const error = r.error ? `; ${r.error.code}: ${r.error.message}` : "";
  return `${r.state}, acknowledged up to position ${r.acked}, lag ${r.lagPositions} positions (${r.lagSeconds.toFixed(1)} s)${error}`;
}
