// What the fleet stream holds for a node, next to what its journal holds, for the fleet tests.
import { join } from "node:path";
import * as assert from "uvu/assert";
import { Journal, type StoredRow } from "../../src/events/journal.js";
import { lastOfNode, openFleet, readNode, type Fleet, type FleetTarget } from "../../src/fleet/nats.js";
import type { ShippedRow } from "../../src/fleet/message.js";
import { journalPath } from "../../src/host/root-layout.js";
import { readShipStatus } from "../../src/fleet/status.js";
import type { DaemonFrame } from "./daemon.js";

export const daemonMain = join(import.meta.dirname, "..", "..", "src", "daemon", "main.ts");

/** The source daemon's command line, shipping to `url` as `node`. */
export const shippingDaemon = (url: string, node: string, extra: string[] = []) => ["--import", "tsx", daemonMain, "--ship", url, "--node", node, ...extra];

/** A server's URL, or the whole target when the server wants credentials. */
export type Server = string | FleetTarget;
const targetOf = (server: Server): FleetTarget => (typeof server === "string" ? { servers: server } : server);

export async function streamRows(url: Server, node: string): Promise<ShippedRow[]> {
  const fleet = await openFleet(targetOf(url), "berth test");
  try {
    const rows: ShippedRow[] = [];
    for await (const r of readNode(fleet, node)) rows.push(r);
    return rows;
  } finally {
    await fleet.nc.close();
  }
}

export async function journalRows(root: string): Promise<StoredRow[]> {
  const journal = await Journal.open(journalPath(root), { readonly: true });
  try {
    return [...journal.storedRows()];
  } finally {
    journal.close();
  }
}

/** Waits until the stream holds the journal's head for the node; returns both. */
export async function waitShipped(url: Server, node: string, root: string, timeoutMs = 60_000): Promise<{ stream: ShippedRow[]; journal: StoredRow[] }> {
  let fleet: Fleet | undefined;
  try {
    for (const end = Date.now() + timeoutMs; ;) {
      const head = await headOf(root);
      // A cluster that just lost a server may time out for a while: connect again then.
      fleet ??= await openFleet(targetOf(url), "berth test").catch(() => undefined);
      const last = fleet && (await lastOfNode(fleet.jsm, node).catch(() => undefined));
      if (head > 0 && last?.row.position === head) break;
      if (Date.now() > end) throw new Error(`timed out waiting for node ${node}'s journal (head ${head}) to reach the stream (at ${last?.row.position}); the shipper: ${JSON.stringify(readShipStatus(root))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await fleet?.nc.close();
  }
  return { stream: await streamRows(url, node), journal: await journalRows(root) };
}

async function headOf(root: string): Promise<number> {
  const journal = await Journal.open(journalPath(root), { readonly: true });
  try {
    return journal.head().position;
  } finally {
    journal.close();
  }
}

/** The stream equals the journal: the same rows, byte for byte, in order, once each. */
export function assertSameRows(stream: ShippedRow[], journal: StoredRow[]): void {
  const positions = stream.map((s) => s.row.position);
  assert.equal(positions, journal.map((r) => r.position), "the stream holds exactly the journal's positions, in order, no gap, no duplicate");
  for (let i = 0; i < stream.length; i++) {
    if (i > 0) assert.ok(stream[i]!.seq > stream[i - 1]!.seq, "stream order is position order");
    const s = stream[i]!.row;
    const j = journal[i]!;
    assert.ok(s.body.equals(j.body), `the body at position ${j.position} is the stored bytes`);
    assert.ok(s.hash.equals(j.hash), `the chain hash at position ${j.position}`);
    assert.equal({ ...s, body: 0, hash: 0 }, { ...j, body: 0, hash: 0 }, `the columns at position ${j.position}`);
  }
}

/** One whole container lifecycle through the daemon: create, bootstrap, start, stop, delete. */
export async function lifecycle(frame: DaemonFrame, id: string): Promise<void> {
  const rc = await frame.client(id);
  try {
    await rc.createContainer({ init: { args: ["sleep", "1000"] } });
    await rc.bootstrap();
    await rc.startProcess(id);
    await rc.stop({ timeoutInSeconds: 1 });
    await rc.delete();
  } finally {
    rc.close();
  }
}
