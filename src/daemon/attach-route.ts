// The `attach` route: a client takes a process's stdio. The daemon journals who attached
// (ProcessAttached, the actor being the kernel's view of the client) and hands back where
// conmon serves the process's attach socket and control fifo; the client then talks to conmon
// directly, as podman's does, so no keystroke or output passes through the daemon or its
// journal. The call stays open for as long as the client is attached: its end is the detach,
// journaled with why (the client cancelled, the process ended, or the connection closed).
import type { Command } from "../commands/commands.js";
import type { ProcessSpec } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import type { DetachReason, StoredEvent } from "../events/catalogue.js";
import type { CallContext, Route } from "../ipc/server.js";
import type { RouteDeps } from "./routes.js";
import { bodyOf } from "./schemas.js";

export interface AttachRouteHooks {
  /** Journals a command that asks for no effect, as the client's: the events it appended. */
  record(command: Command, ctx: CallContext): Promise<StoredEvent[]>;
}

/** What the route's one item tells the client. */
export interface AttachReply {
  /** The id of the ProcessAttached: the session its detach names. */
  session: string;
  /** The directory of conmon's attach socket (named `attach`), and its control fifo. */
  dir: string;
  control: string;
  tty: boolean;
  stdin: boolean;
}

export function attachRoutes(deps: RouteDeps, hooks: AttachRouteHooks): Record<string, Route> {
  const { store, runtimes } = deps;

  const specOf = (id: string, processId: string): ProcessSpec => {
    const state = store.container(id);
    if (!state) throw new BerthError("notFound", `no such container: ${id}`);
    const spec = processId === id ? state.config.init : state.processes[processId]?.spec;
    if (!spec) throw new BerthError("notFound", `no such process ${processId} in container ${id}`);
    if (!runtimes.has(id)) throw new BerthError("invalidState", `cannot attach to ${id}: it is ${state.status}, expected booted or running`);
    return spec;
  };

  /** Settles with why the client's attach ends, other than by the client's own word. */
  const ending = (id: string, processId: string, signal: AbortSignal): Promise<DetachReason> => {
    const aborted = new Promise<DetachReason>((resolve) => {
      const why = () => resolve((signal.reason as BerthError | undefined)?.reason === "clientGone" ? "clientGone" : "detached");
      if (signal.aborted) why();
      else signal.addEventListener("abort", why, { once: true });
    });
    const service = runtimes.client(id);
    const exited = (processId === id ? service.initEnded() : service.wait(processId)).then(
      () => "exited" as const,
      () => "exited" as const,
    );
    return Promise.race([aborted, exited]);
  };

  return {
    attach: {
      kind: "stream",
      handler: async (body, ctx) => {
        const b = bodyOf("attach", body);
        const processId = b.processId ?? b.id;
        const spec = specOf(b.id, processId);
        const service = runtimes.client(b.id);
        // An exec not started yet is set up under conmon now, so its first output reaches the client.
        if (processId !== b.id && !service.state().processes[processId]) await service.createProcess(processId, spec);
        const point = service.attachPoint(processId);
        const stdin = b.stdin !== false && spec.stdin !== undefined;
        const [attached] = await hooks.record({ type: "attach", id: b.id, processId, stdin, tty: spec.terminal }, ctx);
        const session = attached!.eventId;
        let reason: DetachReason = "detached";
        try {
          await ctx.emit({ session, dir: point.dir, control: point.control, tty: spec.terminal, stdin } satisfies AttachReply);
          reason = await ending(b.id, processId, ctx.signal);
        } finally {
          // A detach that cannot be journaled (the daemon is closing) is left open: recovery does not invent one.
          await hooks.record({ type: "detach", id: b.id, session, reason }, { ...ctx, signal: new AbortController().signal }).catch(() => {});
        }
      },
    },
  };
}
