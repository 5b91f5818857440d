// The start-up scan: what exists on the host under the root (runc containers, container
// directories, live runtime services, rootfs mounts) that the journal does not know. Runs after
// recovery, which has already reconciled every container the journal says holds a sandbox; what
// is left over is an orphan. Each one is journaled as OrphanFound (on the daemon stream) and
// logged; `system prune --orphans` kills and removes it and journals OrphanRemoved.
//
// An orphan is journaled once: its key names exactly what was found (ids, pids and start times,
// mount points), and a key that is already journaled, and not removed since, is only logged
// again. A user restarting the daemon twice expects one record of the same leftover, not one
// per start; something new about it (another pid, a new mount) is a new key and a new event.
import { DAEMON_STREAM, describeOrphan, type Actor, type Orphan, type StoredEvent } from "../events/catalogue.js";
import { hasSandbox } from "../model/lifecycle.js";
import type { Projection } from "../projections/index.js";
import { hostInventory, killMonitor, removeContainerDir, removeCgroups, removeRuncContainer, unmountAll, type HostInventory } from "../vm/host-inventory.js";
import { containerDir } from "../vm/paths.js";
import type { KeyedQueue } from "./keyed-queue.js";
import type { Store } from "./store.js";

/** runc states in which a container still has (or is about to have) processes. */
const LIVE_RUNC = ["running", "paused", "created", "creating"];

/** Pure: the orphans in `host`, given what the projection knows. */
export function findOrphans(root: string, projection: Projection, host: HostInventory): Orphan[] {
  const ids = new Set([...host.runc.map((c) => c.id), ...host.directories, ...Object.keys(host.mounts)]);
  const orphans: Orphan[] = [];
  for (const id of [...ids].sort()) {
    const state = projection.containers[id];
    // Recovery owns every container the journal says holds a sandbox.
    if (state && hasSandbox(state.status)) continue;
    const runc = host.runc.find((c) => c.id === id);
    const orphan: Orphan = { id, known: state !== undefined, mounts: host.mounts[id] ?? [] };
    if (runc && (!state || LIVE_RUNC.includes(runc.status))) orphan.runc = { status: runc.status, pid: runc.pid };
    if (host.monitors[id]) orphan.monitor = host.monitors[id];
    if (!state && host.directories.includes(id)) orphan.directory = containerDir(root, id);
    if (orphan.runc || orphan.monitor || orphan.mounts.length || orphan.directory) orphans.push(orphan);
  }
  return orphans;
}

/** Exactly what was found: the same leftover gives the same key at every start. */
export function orphanKey(o: Orphan): string {
  const parts = [o.id, o.known ? "known" : "unknown"];
  if (o.runc) parts.push(`runc:${o.runc.status}:${o.runc.pid}`);
  if (o.monitor) parts.push(`monitor:${o.monitor.pid}:${o.monitor.startTime}`);
  if (o.mounts.length) parts.push(`mounts:${[...o.mounts].sort().join(",")}`);
  if (o.directory) parts.push(`dir:${o.directory}`);
  return parts.join("|");
}

/** Orphans journaled and not removed since, by key, with the position of their OrphanFound. */
async function journaledOrphans(store: Store): Promise<Map<string, { orphan: Orphan; position: number }>> {
  const open = new Map<string, { orphan: Orphan; position: number }>();
  const events = (await store.journal.query({ streamId: DAEMON_STREAM, types: ["OrphanFound", "OrphanRemoved"] })) as StoredEvent[];
  for (const e of events) {
    if (e.type === "OrphanFound") open.set(e.data.key, { orphan: e.data.orphan, position: e.position });
    else if (e.type === "OrphanRemoved") open.delete(e.data.key);
  }
  return open;
}

export interface ScanResult {
  orphans: Orphan[];
  /** How many were journaled by this scan (the rest were already). */
  journaled: number;
  vanished: number;
}

/** The start-up scan: journal new orphans, note vanished ones, log every one still there. */
export async function scanOrphans(store: Store, root: string, log: (line: string) => void = (l) => console.error(l)): Promise<ScanResult> {
  let host: HostInventory;
  try {
    host = await hostInventory(root);
  } catch (err) {
    log(`berth daemon: the orphan scan failed, so leftovers under ${root} are not journaled: ${(err as Error).message}`);
    return { orphans: [], journaled: 0, vanished: 0 };
  }
  const orphans = findOrphans(root, store.projection, host);
  const open = await journaledOrphans(store);
  let journaled = 0;
  for (const orphan of orphans) {
    const key = orphanKey(orphan);
    const known = open.get(key);
    open.delete(key);
    let position = known?.position;
    if (position === undefined) {
      position = store.appendRaw(DAEMON_STREAM, [{ type: "OrphanFound", data: { orphan, key } }], "any")[0]!.position;
      journaled += 1;
    }
    log(`berth daemon: orphan ${describeOrphan(orphan)} (journaled at position ${position}${known ? ", at an earlier start" : ""}); \`berth system prune --orphans\` kills and removes it`);
  }
  for (const [key, { orphan }] of open) store.appendRaw(DAEMON_STREAM, [{ type: "OrphanRemoved", data: { key, id: orphan.id, how: "vanished" } }], "any");
  return { orphans, journaled, vanished: open.size };
}

/** What is there now (a fresh scan), as `system prune --orphans` would remove it. */
export async function currentOrphans(store: Store, root: string): Promise<{ orphan: Orphan; key: string }[]> {
  return findOrphans(root, store.projection, await hostInventory(root)).map((orphan) => ({ orphan, key: orphanKey(orphan) }));
}

/**
 * Kills and removes one orphan: its runtime service first (so nothing reports on what follows),
 * then runc's container and its processes, its mounts, and the directory of an unknown
 * container. A known container keeps its directory: its logs are part of its history.
 */
export async function removeOrphan(root: string, orphan: Orphan): Promise<void> {
  if (orphan.monitor) await killMonitor(orphan.monitor);
  if (orphan.runc) await removeRuncContainer(root, orphan.id);
  unmountAll(orphan.mounts);
  if (orphan.directory) removeContainerDir(root, orphan.id);
  else if (!orphan.known) removeCgroups(root, orphan.id);
}

/**
 * Prunes the orphans there now (only those in `keys`, when given) and journals each removal.
 * Each runs on its container's queue and is looked for again there: a delete's own clean-up, or
 * a bootstrap, that was in flight has finished by then, and what it left is no orphan.
 */
export async function pruneOrphans(store: Store, root: string, queue: KeyedQueue, meta: { correlationId?: string; actor?: Actor }, keys?: string[]): Promise<{ removed: Orphan[] }> {
  const open = await journaledOrphans(store);
  const removed: Orphan[] = [];
  for (const candidate of await currentOrphans(store, root)) {
    if (keys && !keys.includes(candidate.key)) continue;
    await queue.run(candidate.orphan.id, async () => {
      const now = (await currentOrphans(store, root)).find((o) => o.orphan.id === candidate.orphan.id);
      if (!now || (keys && !keys.includes(now.key))) return; // gone, or no longer what was confirmed
      const { orphan, key } = now;
      // Found since the start-up scan: journal it first, so every removal names a found orphan.
      if (!open.has(key)) store.appendRaw(DAEMON_STREAM, [{ type: "OrphanFound", data: { orphan, key } }], "any", meta);
      await removeOrphan(root, orphan);
      store.appendRaw(DAEMON_STREAM, [{ type: "OrphanRemoved", data: { key, id: orphan.id, how: "pruned" } }], "any", meta);
      removed.push(orphan);
    });
  }
  return { removed };
}
