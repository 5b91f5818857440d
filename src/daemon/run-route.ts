// The `start` and `run` routes: one request each for what took the CLI a request per step.
// `start` brings a container to running (start-operation.ts). `run` creates one, starts it and,
// unless detached, streams init's output and then its exit, so `berth run` is a single request.
// Each step is the routes' own command path (routes.ts), so it is journaled as the client's.
import type { Command } from "../commands/commands.js";
import { MAX_TIMER_MS } from "../model/budget.js";
import { containerStream } from "../events/catalogue.js";
import type { ExitStatus } from "../model/exit.js";
import { isAbsent } from "../model/lifecycle.js";
import type { CallContext, Route, StreamHandler } from "../ipc/server.js";
import type { OutputStream } from "../vm/driver.js";
import { followLogs, logEntries, processLogPath } from "../vm/logs.js";
import { containerPaths } from "../vm/paths.js";
import type { RouteDeps } from "./routes.js";
import { bodyOf } from "./schemas.js";
import { startContainer, stepCommandId, type StartOptions } from "./start-operation.js";

export interface RunRouteHooks {
  /** One command for a client, through routes.ts's execute and outcome: throws what it failed with. */
  perform(command: Command, commandId: string | undefined, ctx: CallContext): Promise<void>;
  /** routes.ts's wait for init's exit, also of a container deleted meanwhile. */
  exitOf(id: string, signal: AbortSignal): Promise<ExitStatus>;
  /** routes.ts's parse of a create body, with its check of the mounts against the berth root: before anything is journaled. */
  create(body: Record<string, unknown>): Extract<Command, { type: "create" }>;
  /** The deadline of a lifecycle route (routes.ts). */
  deadlineMs: number;
}

type StreamContext = Parameters<StreamHandler>[1];
type Seen = Record<OutputStream, number>;


export function runRoutes(deps: RouteDeps, hooks: RunRouteHooks): Record<string, Route> {
  const { store, reactor } = deps;

  /** The client's start from wherever the container is: each step as the client, named after its request. */
  const start = (id: string, commandId: string | undefined, ctx: CallContext, opts: StartOptions = {}) =>
    startContainer(id, store.container(id)?.status ?? "none", async (command) => {
      await hooks.perform(command, stepCommandId(commandId, command), ctx);
      return true;
    }, opts);

  /** init's log file (conmon's k8s-file), the one `run` relays. */
  const initLog = (id: string) => [{ processId: id, path: processLogPath(containerPaths(deps.root, id).logs, id) }];

  /**
   * Follows init's log file until init has ended and its last line is read, counting the
   * entries per stream. False when there was nothing to follow (no sandbox) or it broke off.
   */
  const follow = async (id: string, ctx: StreamContext, seen: Seen): Promise<boolean> => {
    if (!deps.runtimes.has(id)) return false;
    const done = deps.runtimes.client(id).initEnded();
    try {
      await followLogs(initLog(id), {}, {
        done,
        signal: ctx.signal,
        emit: (e) => {
          seen[e.s]++;
          return ctx.emit(e);
        },
      });
      return !ctx.signal.aborted;
    } catch {
      return false; // the files went away mid-read: the catch-up tells what is left
    }
  };

  /** Sends, per stream, the entries of init the follow did not: all after the first `seen[s]` (the files were empty at create). */
  const catchUp = async (id: string, ctx: StreamContext, seen: Seen) => {
    for (const s of ["stdout", "stderr"] as const) {
      let skip = seen[s];
      for (const e of logEntries(initLog(id), s === "stdout" ? { stderr: false } : { stdout: false })) {
        if (skip > 0) {
          skip--;
          continue;
        }
        const sent = ctx.emit(e);
        if (sent) await sent;
        if (ctx.signal.aborted) return;
      }
    }
  };

  /** Lets the daemon remove an --rm container and resolves once its ContainerDeleted is journaled. */
  const removed = async (id: string, release: () => Promise<void>, ctx: StreamContext) => {
    const streamId = containerStream(id);
    let deleted = false;
    const off = store.onApplied((e) => {
      if (e.streamId === streamId && e.type === "ContainerDeleted") deleted = true;
    });
    try {
      await release();
      const gone = () => deleted || isAbsent(store.container(id)?.status ?? "none");
      await store.waitFor(() => (gone() ? true : undefined), MAX_TIMER_MS, `container ${id} to be removed`, ctx.signal);
    } finally {
      off();
    }
  };

  /**
   * `run -i`: tells the client the sandbox is booted and waits while it attaches and starts init
   * itself, so none of init's output precedes the attach. A client that leaves before the start
   * leaves no half-run container: its run is stopped (and, with --rm, removed).
   */
  const startedByClient = async (id: string, ctx: StreamContext) => {
    await ctx.emit({ booted: store.container(id) });
    try {
      await store.waitFor(() => (store.container(id)?.status === "booted" ? undefined : true), MAX_TIMER_MS, `the client to start ${id}`, ctx.signal);
    } catch (err) {
      if (store.container(id)?.status === "booted") await hooks.perform({ type: "stop", id, signal: "SIGKILL", timeoutInSeconds: 0 }, undefined, { ...ctx, signal: new AbortController().signal }).catch(() => {});
      throw err;
    }
  };

  return {
    start: {
      kind: "unary",
      deadlineMs: hooks.deadlineMs,
      handler: async (body, ctx) => {
        const b = bodyOf("start", body);
        await start(b.id, b.commandId, ctx);
        return store.container(b.id);
      },
    },

    run: {
      kind: "stream",
      handler: async (body, ctx) => {
        const b = bodyOf("run", body);
        const create = hooks.create(b);
        deps.networks.assertPortsFree(create.id, create.config);
        await hooks.perform(create, b.commandId, ctx);
        // Held from before the start: a container that stops at once keeps its log files (and
        // its runtime service) until its output has been relayed.
        const release = !b.detach && store.container(b.id)?.config.autoRemove === true ? reactor.holdRemoval(b.id) : undefined;
        try {
          // A container without a log is attached to as well: conmon's attach socket is then the only way to its output.
          const attach = b.attach === true || (!b.detach && store.container(b.id)?.config.log?.driver === "none");
          await start(b.id, b.commandId, ctx, { run: true, ...(b.dynamicEnv ? { dynamicEnv: b.dynamicEnv } : {}), ...(attach ? { untilBooted: true } : {}) });
          if (attach) await startedByClient(b.id, ctx);
          const exited = b.detach ? undefined : hooks.exitOf(b.id, ctx.signal);
          exited?.catch(() => {}); // awaited below; a relay that fails first must not leave it unhandled
          await ctx.emit({ started: store.container(b.id) });
          if (!exited) return;
          if (attach) {
            // The client has init's output from conmon's attach socket: only the exit is sent.
            const exit = await exited;
            if (release) await removed(b.id, release, ctx);
            await ctx.emit({ exit });
            return;
          }
          const seen: Seen = { stdout: 0, stderr: 0 };
          const complete = await follow(b.id, ctx, seen);
          const exit = await exited;
          // Once the exit is journaled the files hold every line init wrote.
          if (!complete && !ctx.signal.aborted) await catchUp(b.id, ctx, seen);
          if (release) await removed(b.id, release, ctx);
          await ctx.emit({ exit });
        } finally {
          await release?.();
        }
      },
    },
  };
}
