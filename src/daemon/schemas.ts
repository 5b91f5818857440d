// The daemon's routes and their bodies: one schema per route, used by the routes to check every
// body (strictly: an unknown field is refused) and by docs/ipc.md, whose routes table
// test/ipc-schema.test.ts compares with routeTable(). A body that does not match gets
// invalidArgument naming the field, before the handler looks at anything else.
import { KIND_TEXT, requireFields, type FieldKind, type Fields, type FieldSpec } from "../ipc/fields.js";

const lifecycle = { id: "id", commandId: "string?" } as const;

export const ROUTE_SCHEMAS = {
  ping: {},
  /** Only when the daemon runs with BERTH_DEBUG_ROUTES=1 (tests): memory after a GC. */
  debugMemory: {},
  create: { id: "id", config: "object", commandId: "string?" },
  bootstrap: { ...lifecycle, dynamicEnv: "record<string>?", run: "boolean?" },
  startProcess: { ...lifecycle, processId: "id?" },
  createProcess: { ...lifecycle, processId: "id", spec: "object" },
  // src/daemon/run-route.ts
  start: lifecycle,
  run: { id: "id", config: "object", commandId: "string?", detach: "boolean?", attach: "boolean?", dynamicEnv: "record<string>?" },
  state: { id: "id" },
  list: { all: "boolean?" },
  statistics: { id: "id" },
  stop: { ...lifecycle, signal: "signal?", timeoutInSeconds: "seconds?" },
  kill: { ...lifecycle, processId: "id?", signal: "signal?" },
  wait: { id: "id", processId: "id?" },
  pause: lifecycle,
  unpause: lifecycle,
  rename: { ...lifecycle, name: "id" },
  shutdown: lifecycle,
  delete: { ...lifecycle, force: "boolean?" },
  events: { after: "count?", upTo: "count?", since: "time?", until: "time?", container: "id?", types: "string[]?", actorUid: "count?", follow: "boolean?" },
  // src/daemon/attach-route.ts
  attach: { id: "id", processId: "id?", stdin: "boolean?" },
  logs: { id: "id", processId: "id?", follow: "boolean?", since: "time?", until: "time?", tail: "count?", stdout: "boolean?", stderr: "boolean?" },
  // src/daemon/system-routes.ts
  info: {},
  orphans: {},
  prune: { orphans: "boolean?", keys: "string[]?", commandId: "string?" },
  // src/daemon/image-routes.ts
  pull: { reference: "string", platform: "string?", insecureRegistries: "string[]?", credentials: "object?", commandId: "string?" },
  imageLoad: { file: "string", commandId: "string?" },
  imageRemove: { reference: "string", force: "boolean?", commandId: "string?" },
  imageTag: { source: "string", target: "string", commandId: "string?" },
  imagePrune: { all: "boolean?", commandId: "string?" },
  // src/daemon/network-routes.ts
  networkCreate: { name: "string", subnet: "string?", gateway: "string?", commandId: "string?" },
  networkList: {},
  networkInspect: { name: "string" },
  networkRemove: { name: "string", commandId: "string?" },
  networkConnect: { id: "id", network: "string", aliases: "string[]?", ip: "string?", commandId: "string?" },
  networkDisconnect: { id: "id", network: "string", commandId: "string?" },
} as const satisfies Record<string, FieldSpec>;

export type RouteName = keyof typeof ROUTE_SCHEMAS;

/** Checks a route's body against its schema; an absent body counts as {} where every field is optional. */
export function bodyOf<R extends RouteName>(route: R, body: unknown): Fields<(typeof ROUTE_SCHEMAS)[R]> {
  const spec: FieldSpec = ROUTE_SCHEMAS[route];
  const optionalOnly = Object.values(spec).every((k) => k.endsWith("?"));
  return requireFields(body == null && optionalOnly ? {} : body, spec, route, { strict: true }) as Fields<(typeof ROUTE_SCHEMAS)[R]>;
}

/** The body column of docs/ipc.md's routes table: `{ id: id, force?: boolean }`. */
export function bodyText(route: RouteName): string {
  const fields = Object.entries(ROUTE_SCHEMAS[route] as FieldSpec).map(([name, kind]) => {
    const optional = kind.endsWith("?");
    return `${name}${optional ? "?" : ""}: ${(optional ? kind.slice(0, -1) : kind) as FieldKind}`;
  });
  return fields.length === 0 ? "`{}`" : `\`{ ${fields.join(", ")} }\``;
}

/** The kinds used by the schemas, explained: the legend under the table. */
export function kindLegend(): string {
  const used = new Set<FieldKind>();
  for (const spec of Object.values(ROUTE_SCHEMAS) as FieldSpec[]) for (const k of Object.values(spec)) used.add(k.replace(/\?$/, "") as FieldKind);
  return [...used].map((k) => `- \`${k}\`: ${KIND_TEXT[k]}`).join("\n");
}
