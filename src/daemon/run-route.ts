// The `start` and `run` routes: one request each for what took the CLI a request per step.
// `start` brings a container to running (start-operation.ts). `run` creates one, starts it and,
// unless detached, streams init's output and then its exit, so `berth run` is a single request.
// Each step is the routes' own command path (routes.ts), so it is journaled as the client's.
import type { Command } from "../commands/commands.js";
import { IDLE_AFTER_EXIT_MS, MAX_TIMER_MS } from "../model/budget.js";
import { containerStream } from "../events/catalogue.js";
import type { ExitStatus } from "../model/exit.js";
import { isAbsent } from "../model/lifecycle.js";
import { peekStrings } from "../ipc/peek.js";
import type { CallContext, Route, StreamHandler } from "../ipc/server.js";
import type { OutputStream } from "../vm/driver.js";
import { logEntries } from "../vm/logs.js";
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

  /**
   * Relays init's entries from the service's follow as the service encoded them (the logs
   * route's relay), counting them per stream. True when the follow ended by itself, having
   * read init's last output; false when it broke off (the service went away) or stalled.
   */
  const follow = async (id: string, ctx: StreamContext, exited: Promise<unknown>, seen: Seen): Promise<boolean> => {
    let service;
    try {
      service = await deps.runtimes.dedicatedClient(id);
    } catch {
      return false; // the service is gone already: the files hold what init wrote
    }
    let lastEntry = Date.now();
    let stalled = false;
    let finished = false;
    let watchdog: NodeJS.Timeout | undefined;
    const stream = service.relayLogs({ follow: true }, (entry) => {
      const { s, p } = peekStrings(entry, ["s", "p"] as const);
      if (p !== id || (s !== "stdout" && s !== "stderr")) return undefined; // an exec's output is not run's
      seen[s]++;
      lastEntry = Date.now();
      return ctx.emitRaw(entry)?.then(() => void (lastEntry = Date.now()));
    });
    const cancel = () => stream.cancel();
    ctx.signal.addEventListener("abort", cancel, { once: true });
    void exited.then(() => {
      if (finished) return;
      watchdog = setInterval(() => {
        if (Date.now() - lastEntry <= IDLE_AFTER_EXIT_MS) return;
        stalled = true;
        stream.cancel();
      }, IDLE_AFTER_EXIT_MS);
    }, () => {});
    try {
      for await (const _ of stream); // ends with the service's end frame, or throws its error
      return !stalled && !ctx.signal.aborted;
    } catch {
      return false; // the service went away mid-stream
    } finally {
      finished = true;
      clearInterval(watchdog);
      ctx.signal.removeEventListener("abort", cancel);
      service.close();
    }
  };

  /** Sends, per stream, the entries of init the follow did not: all after the first `seen[s]` (the files were empty at create). */
  const catchUp = async (id: string, ctx: StreamContext, seen: Seen) => {
    const paths = containerPaths(deps.root, id);
    for (const s of ["stdout", "stderr"] as const) {
      let skip = seen[s];
      for (const e of logEntries(paths, s === "stdout" ? { stderr: false } : { stdout: false })) {
        if (e.p !== id) continue;
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
        await hooks.perform(hooks.create(b), b.commandId, ctx);
        // Held from before the start: a container that stops at once keeps its log files (and
        // its runtime service) until its output has been relayed.
        const release = !b.detach && store.container(b.id)?.config.autoRemove === true ? reactor.holdRemoval(b.id) : undefined;
        try {
          await start(b.id, b.commandId, ctx, { run: true, ...(b.dynamicEnv ? { dynamicEnv: b.dynamicEnv } : {}) });
          const exited = b.detach ? undefined : hooks.exitOf(b.id, ctx.signal);
          exited?.catch(() => {}); // awaited below; a relay that fails first must not leave it unhandled
          await ctx.emit({ started: store.container(b.id) });
          if (!exited) return;
          const seen: Seen = { stdout: 0, stderr: 0 };
          const complete = await follow(b.id, ctx, exited, seen);
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
