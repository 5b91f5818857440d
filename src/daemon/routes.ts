// The daemon's IPC routes. Each lifecycle route turns its body into a command and runs it on the
// container's queue (decide → append → effect); the effect hands back the outcome it journaled,
// and the reply is that outcome. No route reads the journal to learn what its command did.
// The actor is the kernel's view of the peer, never something the client says about itself.
import { hostname } from "node:os";
import type { Command, CommandType } from "../commands/commands.js";
import { parseCommand } from "../commands/parse.js";
import type { ContainerConfig, LogConfig } from "../model/config.js";
import { collectGarbage } from "../host/memory.js";
import { BerthError, type ErrorInfo } from "../model/errors.js";
import { toExitStatus, type ExitStatus } from "../model/exit.js";
import { containerStream, isIntent, type StoredEvent } from "../events/catalogue.js";
import type { ReadFilter } from "../events/journal.js";
import { allows, initStartedIn, LIFECYCLE } from "../model/lifecycle.js";
import { FORCE_DELETE_BUDGET, LIFECYCLE_BUDGET, MAX_TIMER_MS, stopBudget, UNSIZED_STOP } from "../model/budget.js";
import type { CallContext, Route } from "../ipc/server.js";
import type { ContainerState } from "../projections/container.js";
import { listContainers } from "../projections/index.js";
import { followLogs, logEntries, processLogPath } from "../vm/logs.js";
import { checkBindMounts, checkRootfs } from "../vm/mount-policy.js";
import { containerPaths } from "../vm/paths.js";
import { resolveCreateConfig } from "../vm/image/resolve.js";
import { networkProblem } from "../commands/network.js";
import { DEFAULT_NETWORK } from "../model/network.js";
import type { NetworkEffects } from "./network-effects.js";
import type { KeyedQueue } from "./keyed-queue.js";
import type { Reactor } from "./reactor.js";
import { attachRoutes } from "./attach-route.js";
import { runRoutes } from "./run-route.js";
import type { Runtimes } from "./runtimes.js";
import { holderOf, NAMES_KEY } from "./names.js";
import { bodyOf } from "./schemas.js";
import { stopwatch } from "./stopwatch.js";
import type { Store } from "./store.js";

export interface RouteDeps {
  root: string;
  store: Store;
  queue: KeyedQueue;
  reactor: Reactor;
  runtimes: Runtimes;
  /** The log config of a container created without one (the daemon's --log-opt). */
  logDefault?: LogConfig;
  networks: NetworkEffects;
  /** The network of a container whose config names none. */
  defaultNetwork: string;
  /** The IPC server's counters, for the debugMemory route (the server is made after the routes). */
  ipcStats?: () => { connections: number; inFlight: number; queuedBytes: number };
}

const unary = (handler: Extract<Route, { kind: "unary" }>["handler"], deadlineMs: number = LIFECYCLE_BUDGET.routeDeadlineMs): Route => ({ kind: "unary", handler, deadlineMs });

export function daemonRoutes(deps: RouteDeps): Record<string, Route> {
  const { store, queue, reactor } = deps;

  /** `id` passed the route's schema (kind "id"), so it is not checked again. */
  const existing = (id: string): ContainerState => {
    const state = store.container(id);
    if (!state) throw new BerthError("notFound", `no such container: ${id}`);
    return state;
  };

  /**
   * decide → append → effect, serialized per container. Returns the outcome of the intent the
   * command appended, as the effect handed it back, or undefined when it appended none. A retry
   * of a journaled command id, or an intent whose effect someone else performed, gets it from
   * the store once the intent is settled.
   */
  const execute = async (command: Command, body: Record<string, unknown>, ctx: CallContext, timeoutMs: OutcomeWait = LIFECYCLE_BUDGET.outcomeMs): Promise<Outcome> => {
    const commandId = typeof body.commandId === "string" ? body.commandId : undefined;
    const meta = { actor: ctx.peer, ...(commandId ? { commandId } : {}) };
    const { intent, outcome } = await queue.run(command.id, async () => {
      const result = store.command(command, meta);
      let outcome: StoredEvent | undefined;
      if (!result.duplicate) for (const event of result.events) outcome = (await reactor.effect(event)) ?? outcome;
      return { intent: result.events.find((e) => isIntent(e.type)), outcome };
    });
    if (!intent) return { kind: "none" };
    return { kind: "settled", intent, event: outcome ?? (await store.outcomeOf(intent, typeof timeoutMs === "number" ? timeoutMs : timeoutMs(intent), ctx.signal)) };
  };

  /** A lifecycle command's reply: the container's state after it, or the typed error its outcome records. */
  const lifecycle = async (command: Command, body: Record<string, unknown>, ctx: CallContext, timeoutMs?: OutcomeWait): Promise<ContainerState> => {
    raiseFailure(command.id, await execute(command, body, ctx, timeoutMs));
    return current(command.id);
  };

  /**
   * A create, parsed, whose mounts do not expose the berth root (for `create` and `run`). A
   * pulled image's config is merged in first, so what is journaled is what will run.
   */
  const parsedCreate = (body: Record<string, unknown>) => {
    const config = body.config as Record<string, unknown> | undefined;
    // As docker's daemon-wide log options: for a container that names none of its own.
    if (deps.logDefault && config && typeof config === "object" && config.log === undefined) body = { ...body, config: { ...config, log: deps.logDefault } };
    if (config && typeof config === "object" && config.network === undefined) body = { ...body, config: { ...(body.config as object), network: deps.defaultNetwork } };
    // As docker's daemon: a container on the host's network is named as the host, unless told otherwise.
    const wanted = body.config as Record<string, unknown> | undefined;
    if (wanted && typeof wanted === "object" && wanted.network === "host" && wanted.hostname === undefined) body = { ...body, config: { ...wanted, hostname: hostname() } };
    const command = parsed("create", { ...body, config: resolveCreateConfig(deps.root, body.config) });
    refuseRootMounts(command.config, deps.root);
    if (command.config.network === DEFAULT_NETWORK) deps.networks.ensureDefault();
    const problem = networkProblem(store.projection, command.config);
    if (problem) throw BerthError.from(problem);
    return command;
  };

  /** The container's state after a command, for the reply. */
  const current = (id: string) => store.container(id) ?? existing(id);

  /**
   * The exit of a process, once it has one (for `wait` and `run`). A container deleted meanwhile
   * (an --rm one is, right after it stops) answers with its state just before the delete.
   */
  const exitOf = async (id: string, processId: string, signal: AbortSignal): Promise<ExitStatus> => {
    if (!existing(id).processes[processId]) throw new BerthError("notFound", `no such process ${processId} in container ${id}`);
    const deletion = store.watchDelete(id);
    const exitIn = (s: ContainerState) => {
      const p = s.processes[processId];
      if (processId === id) return s.status === "stopped" ? exitStatus(s.exitCode, s.finishedAt, p?.signal, s.oomKilled) : undefined;
      return p?.status === "exited" ? exitStatus(p.exitCode, p.exitedAt, p.signal, p.oomKilled) : undefined;
    };
    return store.waitFor(() => {
      const s = store.projection.containers[id];
      if (s && s.status !== "deleted") return exitIn(s);
      const exit = deletion.before && exitIn(deletion.before);
      if (!exit) throw new BerthError("notFound", `container ${id} was deleted while waiting`);
      return exit;
    }, MAX_TIMER_MS, `process ${processId} to exit`, signal).finally(deletion.release);
  };

  const routes: Record<string, Route> = {
    ping: unary((body) => (bodyOf("ping", body), { pong: true, pid: process.pid })),

    ...(process.env.BERTH_DEBUG_ROUTES === "1" ? { debugMemory: unary((body) => (bodyOf("debugMemory", body), { ...debugMemory(), ...deps.ipcStats?.() })) } : {}),

    create: unary(async (body, ctx) => {
      const b = bodyOf("create", body);
      return lifecycle(parsedCreate(b), b, ctx);
    }),

    bootstrap: unary(async (body, ctx) => {
      const b = bodyOf("bootstrap", body);
      return lifecycle(parsed("bootstrap", b), b, ctx);
    }),

    startProcess: unary(async (body, ctx) => {
      const b = bodyOf("startProcess", body);
      return lifecycle(parsed("startProcess", b), b, ctx);
    }),

    createProcess: unary(async (body, ctx) => {
      const b = bodyOf("createProcess", body);
      return lifecycle(parsed("createProcess", b), b, ctx);
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
      return lifecycle(parsed("stop", b), b, ctx, (intent) => left(stopBudget((intent.data as { timeoutInSeconds: number }).timeoutInSeconds).outcomeMs));
    }, UNSIZED_STOP.routeDeadlineMs),

    kill: unary(async (body, ctx) => {
      const b = bodyOf("kill", body);
      const command = parsed("kill", b); // the signal: a name or a number
      const { processId } = command;
      const pid = existing(b.id).processes[processId]?.pid;
      await execute(command, b, ctx);
      if (command.signal !== "SIGKILL") return store.container(b.id);
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
        ctx.emit(await exitOf(b.id, b.processId ?? b.id, ctx.signal));
      },
    },

    pause: unary(async (body, ctx) => {
      const b = bodyOf("pause", body);
      return lifecycle(parsed("pause", b), b, ctx);
    }),

    unpause: unary(async (body, ctx) => {
      const b = bodyOf("unpause", body);
      return lifecycle(parsed("unpause", b), b, ctx);
    }),

    // The name's uniqueness spans containers, so it is checked here, one rename at a time.
    rename: unary(async (body, ctx) => {
      const b = bodyOf("rename", body);
      const command = parsed("rename", b);
      return queue.run(NAMES_KEY, async () => {
        const holder = holderOf(store.projection, command.name, command.id);
        if (holder !== undefined) throw new BerthError("exists", `cannot rename ${command.id} to ${command.name}: the name is in use by container ${holder}`);
        return lifecycle(command, b, ctx);
      });
    }),

    shutdown: unary(async (body, ctx) => {
      const b = bodyOf("shutdown", body);
      return lifecycle(parsed("shutdown", b), b, ctx);
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
          await lifecycle({ type: "stop", id: b.id, signal: "SIGKILL", timeoutInSeconds: 0 }, {}, ctx, left(FORCE_DELETE_BUDGET.outcomeMs)).catch((err) => {
            if ((err as BerthError).code !== "interrupted") throw err; // a lost runtime is stopped too
          });
        }
        await execute(parsed("delete", b), b, ctx);
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
          await store.waitFor(() => (store.journal.head().position > from ? true : undefined), MAX_TIMER_MS, "new events", ctx.signal).catch(() => undefined); // a cancelled follow: checked on the next line
          if (ctx.signal.aborted) return;
        }
      },
    },

    logs: {
      kind: "stream",
      handler: async (body, ctx) => {
        const b = bodyOf("logs", body);
        const state = existing(b.id);
        // docker's words: there is no file to read.
        if (state.config.log?.driver === "none") throw new BerthError("unsupported", `configured logging driver does not support reading: ${state.id} was created with --log-driver none`);
        const processId = b.processId ?? state.id;
        const files = [{ processId, path: processLogPath(containerPaths(deps.root, state.id).logs, processId) }];
        const query = { since: b.since, until: b.until, tail: b.tail, stdout: b.stdout, stderr: b.stderr };
        const ended = b.follow ? processEnded(state.id, processId) : undefined;
        if (ended) return followLogs(files, query, { done: ended, signal: ctx.signal, emit: (e) => ctx.emit(e) });
        for (const entry of logEntries(files, query)) await ctx.emit(entry);
      },
    },
  };

  /** Settles when the process has ended (its output is then complete); undefined when nothing of it runs. */
  const processEnded = (id: string, processId: string): Promise<unknown> | undefined => {
    if (!deps.runtimes.has(id)) return undefined;
    const service = deps.runtimes.client(id);
    if (processId === id) return service.initEnded();
    return service.state().processes[processId] ? service.wait(processId).catch(() => {}) : undefined;
  };

  // `start` and `run` (run-route.ts) run each of their steps through the same command path.
  const perform = async (command: Command, commandId: string | undefined, ctx: CallContext) => void (await lifecycle(command, commandId ? { commandId } : {}, ctx));
  // attach and detach (attach-route.ts) are facts with no effect: journaled on the container's queue, as the client's.
  const record = (command: Command, ctx: CallContext) => queue.run(command.id, async () => store.command(command, { actor: ctx.peer }).events);
  return {
    ...routes,
    ...runRoutes(deps, { perform, exitOf: (id, signal) => exitOf(id, id, signal), create: parsedCreate, deadlineMs: LIFECYCLE_BUDGET.routeDeadlineMs }),
    ...attachRoutes(deps, { record }),
  };
}

/**
 * Test builds only (BERTH_DEBUG_ROUTES=1, docs/ipc.md): the daemon's memory after a full GC, so a
 * test can tell memory that is held from garbage not yet collected. The GC is V8's own, exposed
 * at runtime; nothing else is touched.
 */
function debugMemory() {
  collectGarbage();
  return process.memoryUsage();
}

/** A lifecycle route's body (already through its schema) as a typed command, or invalidArgument. */
function parsed<T extends CommandType>(route: T, body: Record<string, unknown>): Extract<Command, { type: T }> {
  const command = parseCommand(route, body);
  if (!command.ok) throw BerthError.from(command.error);
  return command.value as Extract<Command, { type: T }>;
}

/**
 * Bind mounts and a --rootfs directory that would expose the berth root are refused before anything is journaled; the
 * check needs the host (symlinks) and the root, so it runs here and not in the pure decider.
 */
function refuseRootMounts(config: ContainerConfig, root: string): void {
  checkBindMounts(config.mounts, root);
  checkRootfs(config.rootfs, root);
}

/** How long to wait for an outcome another call is performing: fixed, or derived from the intent (a stop's resolved grace). */
type OutcomeWait = number | ((intent: StoredEvent) => number);

/** What a command's effect came to: no intent (nothing to wait for), or its intent's outcome (undefined: none of its own). */
type Outcome = { kind: "none" } | { kind: "settled"; intent: StoredEvent; event: StoredEvent | undefined };

/**
 * The one place an outcome becomes a reply's error: none of its own (the container was deleted
 * or its sandbox went for another reason) and a lost runtime are `interrupted`; an outcome that
 * records an error (BootstrapFailed, ProcessStartFailed, a refused pause) is that error.
 */
function raiseFailure(id: string, outcome: Outcome): void {
  if (outcome.kind === "none") return;
  const { intent, event } = outcome;
  if (!event) throw new BerthError("interrupted", `${intent.type} for container ${id} was interrupted: the container was deleted or its runtime was lost`);
  if (event.type === "ContainerLost") throw new BerthError("interrupted", `container ${id}'s runtime was lost: ${event.data.reason}`);
  const error = "error" in event.data ? (event.data.error as ErrorInfo | undefined) : undefined;
  if (error) throw BerthError.from(error);
}

/** The projection's record of an exit, for the wire; a field it lacks reads as a lost exit's. */
function exitStatus(exitCode: number | undefined, exitedAt: number | undefined, signal: string | undefined, oomKilled: boolean | undefined) {
  return toExitStatus({ exitCode: exitCode ?? 255, exitedAt: exitedAt ?? 0, oomKilled: oomKilled ?? false, ...(signal ? { signal } : {}) });
}
