// The shipper's state, in a small file beside the daemon's socket: `berth journal stats` reads
// it with the journal's `ship` checkpoint to show the lag and whether NATS is down, without a
// round trip to the daemon. Written on every change of state and with each checkpoint.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { socketDir } from "../host/root-layout.js";

/** The journal checkpoint holding the last position the fleet stream acknowledged. */
export const SHIP_CHECKPOINT = "ship";

export type ShipState = "connecting" | "shipping" | "down" | "failed" | "stopped";

export interface ShipStatus {
  pid: number;
  servers: string;
  node: string;
  nodeId: string;
  state: ShipState;
  /** The last position the server acknowledged. */
  acked: number;
  /** Since when (ms) the state holds. */
  since: number;
  /** Shipping with --ship-redact-env: the env values in the stream are `<redacted>`. */
  redactEnv?: boolean;
  error?: { code: string; fault: string; message: string };
}

export const shipStatusPath = (root: string) => join(socketDir(root), "ship.json");

export function writeShipStatus(path: string, status: ShipStatus): void {
  try {
    writeFileSync(`${path}.tmp`, JSON.stringify(status), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  } catch {
    // The status is a view for operators; shipping goes on without it.
  }
}

export function readShipStatus(root: string): ShipStatus | undefined {
  try {
    return JSON.parse(readFileSync(shipStatusPath(root), "utf8")) as ShipStatus;
  } catch {
    return undefined;
  }
}
