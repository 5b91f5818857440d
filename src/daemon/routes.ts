// The daemon's IPC routes. Each lifecycle route turns its body into a command, runs it on the
// container's queue (decide → append → effect), then waits for the outcome to be journaled.
// The actor is the kernel's view of the peer, never something the client says about itself.
import v8 from "node:v8";
import vm from "node:vm";
import type { Command } from "../commands/commands.js";
import { normaliseSignal, validateConfig, validateId } from "../model/config.js";
import { BerthError, type ErrorInfo } from "../model/errors.js";
import { containerStream, isIntent, type ContainerEvent, type StoredEvent } from "../events/catalogue.js";
import type { ReadFilter } from "../events/journal.js";
import { allows, initStartedIn, LIFECYCLE } from "../model/lifecycle.js";
import { FORCE_DELETE_BUDGET, LIFECYCLE_BUDGET, MAX_TIMER_MS, stopBudget, UNSIZED_STOP } from "../model/budget.js";
import type { CallContext, Route } from "../ipc/server.js";
import { foldContainer, type ContainerState } from "../projections/container.js";
import { listContainers } from "../projections/index.js";
import { logEntries } from "../vm/logs.js";
import { checkBindMounts, checkRootfs } from "../vm/mount-policy.js";
import { containerPaths } from "../vm/paths.js";
import { probeRuntime } from "../vm/runtime.js";
import type { KeyedQueue } from "./keyed-queue.js";
import type { Reactor } from "./reactor.js";
import type { Runtimes } from "./runtimes.js";
import { bodyOf } from "./schemas.js";
import { stopwatch } from "./stopwatch.js";
import type { Store } from "./store.js";

export interface RouteDeps {
  root: string;
  store: Store;
  queue: KeyedQueue;
  reactor: Reactor;
  runtimes: Runtimes;
  /** The IPC server's counters, for the debugMemory route (the server is made after the routes). */
  ipcStats?: () => { connections: number; inFlight: number; queuedBytes: number };
}

const unary = (handler: Extract<Route, { kind: "unary" }>["handler"], deadlineMs: number = LIFECYCLE_BUDGET.routeDeadlineMs): Route => ({ kind: "unary", handler, deadlineMs });

export function daemonRoutes(deps: RouteDeps): Record<string, Route> {
  const { store, queue, reactor } = deps;

  const existing = (id: unknown): ContainerState => {
    const valid = validateId(id);
    if (!valid.ok) throw BerthError.from(valid.error);
    const state = store.container(valid.value);
    if (!state) throw new BerthError("notFound", `no such container: ${valid.value}`);
    return state;
  };

  /** decide → append → effect, serialized per container. Returns the events the command appended. */
  const execute = async (command: Command, body: Record<string, unknown>, ctx: CallContext): Promise<StoredEvent[]> => {
    const commandId = typeof body.commandId === "string" ? body.commandId : undefined;
    const meta = { actor: ctx.peer, ...(commandId ? { commandId } : {}) };
    return queue.run(command.id, async () => {
      const result = store.command(command, meta);
      if (!result.duplicate) for (const event of result.events) await reactor.effect(event);
      return result.events;
    });
  };

  /**
   * Waits for the outcome of the intent a command appended (none: the command needed no effect)
   * and returns it. Settling is monotonic, so no transient state can be missed; a container that
   * is deleted meanwhile, or lost, is a typed error.
   */
  const outcome = async (id: string, events: StoredEvent[], ctx: CallContext, timeoutMs: number = LIFECYCLE_BUDGET.outcomeMs): Promise<StoredEvent | undefined> => {
    const intent = events.find((e) => isIntent(e.type));
    if (!intent) return undefined;
    await store.waitFor(() => (store.projection.containers[id]?.pending.some((p) => p.eventId === intent.eventId) ? undefined : true), timeoutMs, `the outcome of ${intent.type} for ${id}`, ctx.signal);
    const result = store.journal.readStream(containerStream(id), intent.version + 1).find((e) => e.causationId === intent.eventId && e.type !== "SignalSent");
    if (!result) throw new BerthError("interrupted", `${intent.type} for container ${id} was interrupted: the container was deleted or its runtime was lost`);
    if (result.type === "ContainerLost") throw new BerthError("interrupted", `container ${id}'s runtime was lost: ${(result.data as { reason: string }).reason}`);
    const error = (result.data as { error?: ErrorInfo }).error;
    if (error) throw BerthError.from(error);
    return result;
  };

  /** The container's state after a command, for the reply. */
  const current = (id: string) => store.container(id) ?? existing(id);

  return {
    ping: unary((body) => (bodyOf("ping", body), { pong: true, pid: process.pid })),

    ...(process.env.BERTH_DEBUG_ROUTES === "1" ? { debugMemory: unary((body) => (bodyOf("debugMemory", body), { ...debugMemory(), ...deps.ipcStats?.() })) } : {}),

    create: unary(async (body, ctx) => {
      const b = bodyOf("create", body);
      refuseRootMounts(b.config, b.id, deps.root);
      await execute({ type: "create", id: b.id, config: b.config }, b, ctx);
      return current(b.id);
    }),

    bootstrap: unary(async (body, ctx) => {
      const b = bodyOf("bootstrap", body);
      await outcome(b.id, await execute({ type: "bootstrap", id: b.id, dynamicEnv: b.dynamicEnv ?? {}, run: b.run === true }, b, ctx), ctx);
      return current(b.id);
    }),

    startProcess: unary(async (body, ctx) => {
      const b = bodyOf("startProcess", body);
      const processId = b.processId ?? b.id;
      await outcome(b.id, await execute({ type: "startProcess", id: b.id, processId }, b, ctx), ctx);
      return current(b.id);
    }),

    createProcess: unary(async (body, ctx) => {
      const b = bodyOf("createProcess", body);
      await execute({ type: "createProcess", id: b.id, processId: b.processId, spec: b.spec }, b, ctx);
      return current(b.id);
    }),

    state: unary((body) => existing(bodyOf("state", body).id)),

    list: unary((body) => {
      const b = bodyOf("list", body);
      return listContainers(store.projection, { all: b.all === true });
    }),

    statistics: unary(async (body) => {
      const state = existing(bodyOf("statistics", body).id);
      if (!LIFECYCLE.reads.statistics.includes(state.status)) throw new BerthError("invalidState", `cannot read statistics: container ${state.id} is ${state.status}, expected ${LIFECYCLE.reads.statistics.join(" or ")}`);
      return (await deps.runtimes.client(state.id)).statistics();
    }),

    // The route's deadline covers any grace; the outcome wait, the grace the decider resolved
    // (the request's, or the container's configured stop timeout), as journaled in StopRequested.
    stop: unary(async (body, ctx) => {
      const b = bodyOf("stop", body);
      const left = stopwatch();
      const command: Command = { type: "stop", id: b.id, signal: b.signal, timeoutInSeconds: b.timeoutInSeconds };
      const events = await execute(command, b, ctx);
      const requested = events.find((e) => e.type === "StopRequested")?.data as { timeoutInSeconds: number } | undefined;
      await outcome(b.id, events, ctx, left(stopBudget(requested?.timeoutInSeconds ?? 0).outcomeMs));
      return current(b.id);
    }, UNSIZED_STOP.routeDeadlineMs),

    kill: unary(async (body, ctx) => {
      const b = bodyOf("kill", body);
      const processId = b.processId ?? b.id;
      const signal = normaliseSignal(b.signal ?? "SIGKILL"); // a name or a number
      if (!signal.ok) throw BerthError.from(signal.error);
      const pid = existing(b.id).processes[processId]?.pid;
      await execute({ type: "kill", id: b.id, processId, signal: signal.value }, b, ctx);
      if (signal.value !== "SIGKILL") return store.container(b.id);
      // As in Apple's service: a SIGKILL reply waits until the exit has been journaled.
      await store.waitFor(() => {
        const s = store.projection.containers[b.id];
        const p = s?.processes[processId];
        return !s || !p || p.status === "exited" || p.pid !== pid || !initStartedIn(s.status) ? true : undefined;
      }, LIFECYCLE_BUDGET.outcomeMs, `process ${processId} to exit`, ctx.signal);
      return current(b.id);
    }),

    wait: {
      kind: "stream",
      handler: async (body, ctx) => {
        const b = bodyOf("wait", body);
        const processId = b.processId ?? b.id;
        const state = existing(b.id);
        if (!state.processes[processId]) throw new BerthError("notFound", `no such process ${processId} in container ${b.id}`);
        const exitOf = (s: ContainerState) => {
          const p = s.processes[processId];
          if (processId === b.id) return s.status === "stopped" ? exitStatus(s.exitCode, s.finishedAt, p?.signal, s.oomKilled) : undefined;
          return p?.status === "exited" ? exitStatus(p.exitCode, p.exitedAt, p.signal, p.oomKilled) : undefined;
        };
        const exited = await store.waitFor(() => {
          const s = store.projection.containers[b.id];
          if (s && s.status !== "deleted") return exitOf(s);
          // Deleted (an --rm container is, right after it stops): its state just before the delete.
          const before = stateBeforeDelete(store, b.id, state.version);
          const exit = before && exitOf(before);
          if (!exit) throw new BerthError("notFound", `container ${b.id} was deleted while waiting`);
          return exit;
        }, MAX_TIMER_MS, `process ${processId} to exit`, ctx.signal);
        ctx.emit(exited);
      },
    },

    pause: unary(async (body, ctx) => {
      const b = bodyOf("pause", body);
      await outcome(b.id, await execute({ type: "pause", id: b.id }, b, ctx), ctx);
      return current(b.id);
    }),

    unpause: unary(async (body, ctx) => {
      const b = bodyOf("unpause", body);
      await outcome(b.id, await execute({ type: "unpause", id: b.id }, b, ctx), ctx);
      return current(b.id);
    }),

    shutdown: unary(async (body, ctx) => {
      const b = bodyOf("shutdown", body);
      await outcome(b.id, await execute({ type: "shutdown", id: b.id }, b, ctx), ctx);
      return current(b.id);
    }),

    delete: unary(async (body, ctx) => {
      const b = bodyOf("delete", body);
      const state = existing(b.id);
      // The client's delete is the one journaled: its stop is not followed by an --rm auto-remove.
      const left = stopwatch();
      return reactor.whileDeleting(b.id, async () => {
        if (b.force && !allows("delete", state.status)) {
          // Let whatever is in flight (a bootstrap, a stop, a shutdown) settle, then stop with SIGKILL.
          await store.waitFor(() => (store.projection.containers[b.id]?.pending.length ? undefined : true), left(FORCE_DELETE_BUDGET.settleMs), `container ${b.id} to settle`, ctx.signal);
          const stopped = await execute({ type: "stop", id: b.id, signal: "SIGKILL", timeoutInSeconds: 0 }, {}, ctx);
          await outcome(b.id, stopped, ctx, left(FORCE_DELETE_BUDGET.outcomeMs)).catch((err) => {
            if ((err as BerthError).code !== "interrupted") throw err; // a lost runtime is stopped too
          });
        }
        await execute({ type: "delete", id: b.id }, b, ctx);
        return { id: b.id, deleted: true };
      });
    }, FORCE_DELETE_BUDGET.routeDeadlineMs),

    events: {
      kind: "stream",
      handler: async (body, ctx) => {
        const b = bodyOf("events", body);
        const filter: ReadFilter = { limit: 1000 };
        if (b.container !== undefined) filter.streamId = containerStream(b.container);
        for (const key of ["types", "since", "until", "actorUid", "upTo"] as const) if (b[key] !== undefined) (filter as Record<string, unknown>)[key] = b[key];
        let after = b.after ?? 0;
        // Page through the backlog, then (with follow) wait for the head to move: no gap, no duplicate.
        for (;;) {
          // Read the head first: the query sees at least everything up to it.
          const seen = Math.min(store.journal.head().position, b.upTo ?? Infinity);
          const page: StoredEvent[] = await store.journal.query({ ...filter, after });
          for (const event of page) await ctx.emit(event);
          if (page.length > 0) after = page[page.length - 1]!.position;
          if (page.length === filter.limit) continue;
          after = Math.max(after, seen);
          if (store.journal.head().position > after && (b.upTo === undefined || after < b.upTo)) continue;
          if (!b.follow || (b.upTo !== undefined && after >= b.upTo) || ctx.signal.aborted) return;
          const from = after;
          await store.waitFor(() => (store.journal.head().position > from ? true : undefined), MAX_TIMER_MS, "new events", ctx.signal).catch(() => undefined);
          if (ctx.signal.aborted) return;
        }
      },
    },

    logs: {
      kind: "stream",
      handler: async (body, ctx) => {
        const b = bodyOf("logs", body);
        const state = existing(b.id);
        const query = { since: b.since, tail: b.tail, stdout: b.stdout, stderr: b.stderr };
        if (b.follow && probeRuntime(deps.root, state.id).alive) {
          // Each entry is passed on as the service encoded it: decoding its line into a JS string
          // and encoding it again was most of the daemon's growth while a large log streamed.
          // An emit that pushes back pauses this relay's own connection to the service until
          // this client has read (docs/ipc.md, flow control).
          const service = await deps.runtimes.dedicatedClient(state.id);
          try {
            const stream = service.relayLogs({ ...query, follow: true }, (entry) => ctx.emitRaw(entry));
            ctx.signal.addEventListener("abort", () => stream.cancel(), { once: true });
            for await (const _ of stream); // ends with the service's end frame, or throws its error
          } finally {
            service.close();
          }
          return;
        }
        for (const entry of logEntries(containerPaths(deps.root, state.id), query)) await ctx.emit(entry);
      },
    },
  };
}

/**
 * Test builds only (BERTH_DEBUG_ROUTES=1, docs/ipc.md): the daemon's memory after a full GC, so a
 * test can tell memory that is held from garbage not yet collected. The GC is V8's own, exposed
 * at runtime; nothing else is touched.
 */
function debugMemory() {
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
  return process.memoryUsage();
}

/**
 * Bind mounts and a --rootfs directory that would expose the berth root are refused before anything is journaled; the
 * check needs the host (symlinks) and the root, so it runs here and not in the pure decider.
 * A config that fails validation is left for the decider to report.
 */
function refuseRootMounts(config: unknown, id: string, root: string): void {
  const valid = validateConfig(config, id);
  if (!valid.ok) return;
  checkBindMounts(valid.value.mounts, root);
  checkRootfs(valid.value.rootfs, root);
}

/** A container's state just before the first delete after stream version `after`, from the journal. */
function stateBeforeDelete(store: Store, id: string, after: number): ContainerState | undefined {
  const events = store.journal.readStream(containerStream(id)) as StoredEvent<ContainerEvent>[];
  const end = events.findIndex((e) => e.type === "ContainerDeleted" && e.version > after);
  return end < 0 ? undefined : foldContainer(events.slice(0, end));
}

function exitStatus(exitCode: number | undefined, exitedAt: number | undefined, signal: string | undefined, oomKilled: boolean | undefined) {
  const status: { exitCode: number; exitedAt: string; oomKilled: boolean; signal?: string } = {
    exitCode: exitCode ?? 255,
    exitedAt: new Date(exitedAt ?? 0).toISOString(),
    oomKilled: oomKilled ?? false,
  };
  if (signal) status.signal = signal;
  return status;
}
