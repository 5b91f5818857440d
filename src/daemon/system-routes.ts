// Daemon-wide routes (`info`, `orphans`, `prune`) and the guard that stops every command once
// the journal file was deleted or replaced under the daemon (src/events/identity.ts): commands
// are refused with the fault, read-only routes answer from memory, their replies marked stale.
import { ImageStore, STORE_NAMES } from "../vm/image/store.js";
import { shipping, type ShipReport } from "../fleet/ship-report.js";
import { randomUUID } from "node:crypto";
import { readdirSync, readlinkSync, statSync } from "node:fs";
import type { Command } from "../commands/commands.js";
import { BerthError } from "../model/errors.js";
import type { JournalFault } from "../events/identity.js";
import { JournalGone } from "../events/identity.js";
import type { Journal } from "../events/journal.js";
import { allows } from "../model/lifecycle.js";
import { bodyOf } from "./schemas.js";
import type { CallContext, Route } from "../ipc/server.js";
import type { ContainerState } from "../projections/container.js";
import type { KeyedQueue } from "./keyed-queue.js";
import { currentOrphans, pruneOrphans } from "./orphans.js";
import type { Reactor } from "./reactor.js";
import type { Store } from "./store.js";
import { berthVersion } from "../host/package-info.js";
import type { DriverName } from "../vm/driver.js";
import { imagesDir } from "../vm/paths.js";
import { runtimeVersions, type RuntimeVersions } from "../vm/versions.js";

/** Routes that only read the daemon's memory or the host: they keep answering after a fault. */
const READ_ONLY = new Set(["ping", "state", "list", "statistics", "wait", "events", "logs", "info", "orphans"]);

/**
 * When the fault is first seen: checkpoint the WAL into the file the daemon opened and truncate
 * the WAL, so that file is complete on its own (restoring it is one `mv`), and a stale
 * `journal.db-wal` at the path can never be replayed into whatever file is there now. Then log
 * what happened and how to get the journal back.
 */
export function onJournalFault(journal: Journal, log: (line: string) => void = (l) => console.error(l)): void {
  if (!journal.identity) return;
  journal.identity.onFault = (fault) => {
    let sealed = "";
    try {
      journal.checkpointWal();
      sealed = "; its commits were checkpointed into the file it opened, which is complete on its own";
    } catch (err) {
      sealed = `; checkpointing the file it opened failed: ${(err as Error).message}`;
    }
    const fd = fault.kind === "deleted" ? openFdOf(fault.path) : undefined;
    const restore = fd !== undefined ? `; before stopping the daemon, copy /proc/${process.pid}/fd/${fd} to keep that file` : "";
    log(`berth daemon: ${new JournalGone(fault).message}${sealed}${restore}`);
  };
}

/** The daemon's descriptor of a deleted file (its only way back: /proc/<pid>/fd/<n>). */
function openFdOf(path: string): number | undefined {
  try {
    for (const fd of readdirSync("/proc/self/fd")) {
      if (readlinkSafe(`/proc/self/fd/${fd}`) === `${path} (deleted)`) return Number(fd);
    }
  } catch {
    // No /proc: nothing to point at.
  }
  return undefined;
}

function readlinkSafe(link: string): string | undefined {
  try {
    return readlinkSync(link);
  } catch {
    // Not a link (or gone): the inventory shows nothing for it.
    return undefined;
  }
}

/** Wraps every route: commands check the journal's identity first, `state` and `list` mark staleness. */
export function guardRoutes(routes: Record<string, Route>, journal: Journal): Record<string, Route> {
  const fault = () => journal.identity?.check();
  const guarded: Record<string, Route> = {};
  for (const [name, route] of Object.entries(routes)) {
    if (READ_ONLY.has(name)) {
      guarded[name] = name === "state" || name === "list" ? markStale(route, fault) : route;
      continue;
    }
    const refuse = () => {
      const f = fault();
      if (f) throw new JournalGone(f);
    };
    guarded[name] = route.kind === "unary"
      ? { ...route, handler: (body: unknown, ctx: CallContext) => (refuse(), route.handler(body, ctx)) }
      : { ...route, handler: (body: unknown, ctx: Parameters<typeof route.handler>[1]) => (refuse(), route.handler(body, ctx)) };
  }
  return guarded;
}

function markStale(route: Route, fault: () => JournalFault | undefined): Route {
  if (route.kind !== "unary") return route;
  const mark = (result: unknown): unknown => {
    const f = fault();
    if (!f) return result;
    if (Array.isArray(result)) return result.map((s: ContainerState) => ({ ...s, stale: f }));
    return result && typeof result === "object" ? { ...result, stale: f } : result;
  };
  return {
    ...route,
    handler: (body: unknown, ctx: CallContext) => {
      const result = route.handler(body, ctx);
      return result instanceof Promise ? result.then(mark) : mark(result);
    },
  };
}

export interface SystemDeps {
  root: string;
  store: Store;
  queue: KeyedQueue;
  reactor: Reactor;
  driver: DriverName;
}

export interface DaemonInfo {
  pid: number;
  root: string;
  /** The daemon's own berth version (package.json), which may differ from the CLI's. */
  version: string;
  driver: DriverName;
  runtimes: RuntimeVersions;
  /** Distinct images: the built-in and imported trees, and the pulled or loaded manifests. */
  images: number;
  /** sizeBytes: the journal file and its WAL. */
  journal: { path: string; sizeBytes: number; head: { position: number; hash: string }; fault: JournalFault | null };
  containers: Record<string, number>;
  /** Orphans under the root now (a fresh scan); see `system prune --orphans`. */
  orphans: number;
  /** The fleet shipper's state and lag, when this journal ships or once did (docs/fleet.md). */
  shipping?: ShipReport;
}

export function systemRoutes(deps: SystemDeps): Record<string, Route> {
  const { store, root } = deps;
  // runc and conmon are not upgraded under a running daemon; ask them once.
  let versions: Promise<RuntimeVersions> | undefined;
  const unary = (handler: Extract<Route, { kind: "unary" }>["handler"], deadlineMs = 300_000): Route => ({ kind: "unary", handler, deadlineMs });
  return {
    info: unary(async (body): Promise<DaemonInfo> => {
      bodyOf("info", body);
      const containers: Record<string, number> = { total: 0 };
      for (const c of Object.values(store.projection.containers)) {
        containers.total! += 1;
        containers[c.status] = (containers[c.status] ?? 0) + 1;
      }
      const fault = store.journal.identity?.check() ?? null;
      versions ??= runtimeVersions();
      const journal = { path: store.journal.path, sizeBytes: fileSize(store.journal.path) + fileSize(`${store.journal.path}-wal`), head: store.journal.head(), fault };
      return {
        pid: process.pid, root, version: berthVersion(), driver: deps.driver, runtimes: await versions, images: countImages(root),
        journal, containers, orphans: (await currentOrphans(store, root)).length,
        ...withShipping(root, store.journal),
      };
    }),

    orphans: unary(async (body) => (bodyOf("orphans", body), currentOrphans(store, root))),

    prune: unary(async (body, ctx) => {
      const b = bodyOf("prune", body);
      const correlationId = b.commandId ?? randomUUID();
      const containers = await pruneStopped(deps, correlationId, ctx);
      const orphans = b.orphans ? (await pruneOrphans(store, root, deps.queue, { correlationId, actor: ctx.peer }, b.keys)).removed : [];
      return { containers, orphans };
    }),
  };
}

const fileSize = (path: string): number => statSync(path, { throwIfNoEntry: false })?.size ?? 0;

/** docker's count: distinct images, so the built-in and imported trees plus the store's distinct manifests. */
function countImages(root: string): number {
  let trees = 0;
  try {
    trees = readdirSync(imagesDir(root), { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith(".") && !STORE_NAMES.includes(e.name)).length;
  } catch {
    // No image built or imported yet.
  }
  return trees + new Set(Object.values(new ImageStore(root).refs()).map((r) => r.manifest)).size;
}

/** Deletes every stopped or created container, as `docker system prune` does; never stops one. */
async function pruneStopped(deps: SystemDeps, correlationId: string, ctx: CallContext): Promise<string[]> {
  const { store, queue, reactor } = deps;
  const deleted: string[] = [];
  const candidates = Object.values(store.projection.containers).filter((c) => allows("delete", c.status));
  for (const { id } of candidates) {
    const command: Command = { type: "delete", id };
    const done = await queue.run(id, async () => {
      // Checked again on the queue: a restart may have started it meanwhile.
      const now = store.container(id);
      if (!now || !allows("delete", now.status) || now.pending.length > 0) return false;
      const result = store.command(command, { actor: ctx.peer, correlationId });
      for (const event of result.events) await reactor.effect(event);
      return true;
    }).catch((err) => {
      // Refused by the decider (it is no longer stopped): skip it. Anything else is a failure.
      if (err instanceof JournalGone || !(err instanceof BerthError && err.code === "invalidState")) throw err;
      return false;
    });
    if (done) deleted.push(id);
  }
  return deleted;
}

function withShipping(root: string, journal: Parameters<typeof shipping>[1]): { shipping?: ShipReport } {
  const report = shipping(root, journal);
  return report ? { shipping: report } : {};
}
