// Disaster recovery and the outside witness, both read back what a node shipped. A restore
// rebuilds the node's journal file from the stream: the same rows, bodies and chain hashes, and
// the node's UUID, so the restored node may ship on under its name. The witness compares the
// local chain with the shipped one and names the first position where they part. Messages
// shipped with --ship-redact-env carry the journal's chain hashes but not its bytes: the witness
// compares their hashes as any other's, and a restore from them is refused.
import type { Journal, StoredRow } from "../events/journal.js";
import { verifyChain } from "../events/verify.js";
import { BerthError } from "../model/errors.js";
import { FleetError, openFleet, readNode, type FleetTarget } from "./nats.js";
import type { ShippedRow } from "./message.js";
import { redactEnvBody } from "./redact.js";

/** Every message the node shipped, checked: one node id, rising positions. */
async function shippedRows(target: FleetTarget, node: string): Promise<ShippedRow[]> {
  const fleet = await openFleet(target, `berth restore ${node}`);
  try {
    const rows: ShippedRow[] = [];
    for await (const r of readNode(fleet, node)) {
      const prev = rows.at(-1);
      if (prev && r.nodeId !== prev.nodeId) throw new FleetError("otherNode", `stream message ${r.seq} of node ${node} comes from journal ${r.nodeId}, the ones before it from ${prev.nodeId}: two journals shipped under this name`);
      if (prev && r.row.position <= prev.row.position) throw new FleetError("gap", `stream message ${r.seq} of node ${node} holds position ${r.row.position}, after position ${prev.row.position}: the stream is out of order`);
      rows.push(r);
    }
    return rows;
  } finally {
    await fleet.nc.close().catch(() => {});
  }
}

export interface RestoreResult {
  count: number;
  nodeId: string;
  head: { position: number; hash: string };
}

/** Into an empty journal only; all or nothing. A message whose chain hash does not follow refuses the whole restore. */
export async function restoreFromFleet(journal: Journal, target: FleetTarget, node: string): Promise<RestoreResult> {
  if (journal.head().position !== 0 || journal.sequence() !== 0) throw new BerthError("invalidState", `cannot restore into ${journal.path}: the journal is not empty (restore into a fresh --root)`);
  const shipped = await shippedRows(target, node);
  if (shipped.length === 0) throw new BerthError("notFound", `the fleet stream holds no events of node ${node}`);
  const redacted = shipped.filter((s) => s.redacted !== undefined);
  if (redacted.length > 0) {
    const first = redacted[0]!;
    throw new FleetError("redacted", `node ${node} shipped ${redacted.length} of its ${shipped.length} events with their ${first.redacted} values redacted (berth daemon --ship-redact-env), the first at position ${first.row.position} (stream message ${first.seq}, ${first.row.type}): the stream does not hold their original bytes, so it cannot rebuild the journal; nothing was restored`);
  }
  const rows = shipped.map((s) => s.row);
  const last = rows.at(-1)!.position;
  const checked = verifyChain(rows, () => last);
  if (!checked.ok) {
    const bad = shipped.find((s) => s.row.position >= checked.position);
    throw new FleetError("badHash", `the stream's events of node ${node} do not form a valid chain at position ${checked.position} (stream message ${bad?.seq}): ${checked.reason}; nothing was restored`);
  }
  journal.batch(() => {
    journal.adoptNodeId(shipped[0]!.nodeId);
    journal.restore(rows);
  });
  return { count: rows.length, nodeId: shipped[0]!.nodeId, head: journal.head() };
}

export type WitnessResult =
  // redacted: shipped with their env values replaced; their hashes are compared, their bodies cannot be.
  | { ok: true; shipped: number; upTo: number; unshipped: number; redacted: number }
  | { ok: false; position: number; reason: string };

/** The local chain against what `node` shipped: the first position where they differ, or ok. */
export async function compareWithFleet(journal: Journal, target: FleetTarget, node: string): Promise<WitnessResult> {
  const shipped = await shippedRows(target, node);
  const local = journal.nodeId();
  if (shipped.length > 0 && local !== undefined && shipped[0]!.nodeId !== local) {
    return { ok: false, position: shipped[0]!.row.position, reason: `node ${node} in the stream is journal ${shipped[0]!.nodeId}, this journal is ${local}: it is not this node's history` };
  }
  let at = 0;
  let redacted = 0;
  for (const { row, redacted: redaction } of shipped) {
    const skipped = journal.rowsAfter(at, 1)[0];
    if (skipped && skipped.position < row.position) return { ok: false, position: skipped.position, reason: `the local journal holds position ${skipped.position}, which the stream skips (it goes on at ${row.position})` };
    const mine = journal.hashAt(row.position);
    if (!mine) return { ok: false, position: row.position, reason: `position ${row.position} was shipped, but the local journal does not have it (its head is ${journal.head().position}): the local tail was cut or an older copy was put back` };
    if (!mine.equals(row.hash)) return { ok: false, position: row.position, reason: `position ${row.position} differs from what was shipped: ${describeDifference(journal, row, redaction !== undefined)}` };
    if (redaction !== undefined) redacted++;
    at = row.position;
  }
  return { ok: true, shipped: shipped.length, upTo: at, unshipped: journal.head().position - at, redacted };
}

/** A redacted message is compared with the local body redacted the same way: only its env values are beyond telling. */
function describeDifference(journal: Journal, shipped: StoredRow, redacted: boolean): string {
  const mine = journal.rowsAfter(shipped.position - 1, 1)[0];
  if (mine && mine.position === shipped.position) {
    const body = redacted ? redactEnvBody(mine.type, mine.schema_version, mine.body).body : mine.body;
    if (!body.equals(shipped.body)) return `the local event was rewritten (its body${redacted ? ", redacted," : ""} is not the one shipped)`;
  }
  return `the local chain forked from the shipped one (an event before it or its hash was rewritten${redacted ? ", or one of its env values, which the redacted message cannot show" : ""})`;
}
