// Container names (`berth rename`). A container keeps its id for life: its stream, runc's and
// conmon's ids, its directory and cgroup are named by it. A rename journals ContainerRenamed,
// and from then on clients may call the container by its name: every route's `id` (and a
// `processId` equal to it, init's), and the `events` route's `container`, are resolved here to
// the id before the route sees them. Names are unique across live containers' ids and names.
import { BerthError } from "../model/errors.js";
import { isAbsent } from "../model/lifecycle.js";
import type { CallContext, Route } from "../ipc/server.js";
import type { Projection } from "../projections/index.js";

/** The queue key that serializes the checks of names (renames and creates). */
export const NAMES_KEY = "\0names";

/** The id of the live container called `ref`: by its id first, else by its name; else `ref` itself. */
export function resolveId(projection: Projection, ref: string): string {
  const byId = projection.containers[ref];
  if (byId && !isAbsent(byId.status)) return ref;
  for (const c of Object.values(projection.containers)) if (c.name === ref && !isAbsent(c.status)) return c.id;
  return ref;
}

/** The live container other than `except` that `name` already calls (as its id or its name). */
export function holderOf(projection: Projection, name: string, except?: string): string | undefined {
  for (const c of Object.values(projection.containers)) {
    if (c.id === except || isAbsent(c.status)) continue;
    if (c.id === name || c.name === name) return c.id;
  }
  return undefined;
}

/** Routes whose `id` names a new container: it must not be a live container's name. */
const CREATING = new Set(["create", "run"]);

/** Wraps the routes so that a container's name works wherever its id does. */
export function resolveNames(routes: Record<string, Route>, projection: () => Projection): Record<string, Route> {
  const wrapped: Record<string, Route> = {};
  for (const [name, route] of Object.entries(routes)) {
    const rewrite = (body: unknown): unknown => {
      if (body === null || typeof body !== "object" || Array.isArray(body)) return body;
      const b = body as Record<string, unknown>;
      if (CREATING.has(name)) {
        const holder = typeof b.id === "string" ? holderOf(projection(), b.id) : undefined;
        if (holder !== undefined && holder !== b.id) throw new BerthError("exists", `cannot create: the name ${b.id as string} is in use by container ${holder}`);
        return body;
      }
      const out = { ...b };
      if (typeof b.id === "string") {
        out.id = resolveId(projection(), b.id);
        if (b.processId === b.id) out.processId = out.id;
      }
      if (name === "events" && typeof b.container === "string") out.container = resolveId(projection(), b.container);
      return out;
    };
    wrapped[name] = route.kind === "unary"
      ? { ...route, handler: (body: unknown, ctx: CallContext) => route.handler(rewrite(body), ctx) }
      : { ...route, handler: (body: unknown, ctx: Parameters<typeof route.handler>[1]) => route.handler(rewrite(body), ctx) };
  }
  return wrapped;
}
