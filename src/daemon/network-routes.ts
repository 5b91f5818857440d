// The network routes: `networkCreate`, `networkList`, `networkInspect`, `networkRemove`, and
// `networkConnect` / `networkDisconnect` of a running container (on its queue, as its lifecycle). A
// network is a journaled definition (NetworkCreated); its bridge exists on the host only while
// a container is attached (docs/network.md). The default network appears at the first need.
import { BerthError } from "../model/errors.js";
import type { NetworkAttachment, NetworkDefinition } from "../model/network.js";
import type { Route } from "../ipc/server.js";
import { attachedTo, networksOf } from "../projections/index.js";
import type { NetworkEffects } from "./network-effects.js";
import type { KeyedQueue } from "./keyed-queue.js";
import { bodyOf } from "./schemas.js";
import type { Store } from "./store.js";

export interface NetworkView {
  network: NetworkDefinition;
  containers: { id: string; name?: string; attachment: NetworkAttachment }[];
}

export function networkRoutes(deps: { store: Store; networks: NetworkEffects; queue: KeyedQueue }): Record<string, Route> {
  const { store, networks, queue } = deps;
  const view = (network: NetworkDefinition): NetworkView => ({
    network,
    containers: attachedTo(store.projection, network.name).map((c) => ({ id: c.id, ...(c.name ? { name: c.name } : {}), attachment: c.networks![network.name]! })),
  });
  const meta = (ctx: { peer: { uid: number; gid: number; pid: number } }, commandId: string | undefined) => ({ actor: ctx.peer, ...(commandId ? { commandId } : {}) });
  return {
    networkCreate: {
      kind: "unary",
      handler: async (body, ctx) => {
        const b = bodyOf("networkCreate", body);
        networks.ensureDefault();
        const [created] = networks.command({ type: "networkCreate", name: b.name, ...(b.subnet ? { subnet: b.subnet } : {}), ...(b.gateway ? { gateway: b.gateway } : {}) }, meta(ctx, b.commandId));
        return { network: created!.data as NetworkDefinition };
      },
    },
    networkList: {
      kind: "unary",
      handler: async (body) => {
        bodyOf("networkList", body);
        networks.ensureDefault();
        return { networks: Object.values(networksOf(store.projection)).sort((a, b) => a.name.localeCompare(b.name)).map(view) };
      },
    },
    networkInspect: {
      kind: "unary",
      handler: async (body) => {
        const b = bodyOf("networkInspect", body);
        networks.ensureDefault();
        const network = networksOf(store.projection)[b.name] ?? Object.values(networksOf(store.projection)).find((n) => n.id.startsWith(b.name) && b.name.length >= 3);
        if (!network) throw new BerthError("notFound", `network ${b.name} not found`);
        return view(network);
      },
    },
    networkConnect: {
      kind: "unary",
      handler: async (body, ctx) => {
        const b = bodyOf("networkConnect", body);
        const attachment = await queue.run(b.id, () => networks.connect(b.id, b.network, { aliases: b.aliases ?? [], ...(b.ip ? { ip: b.ip } : {}) }, meta(ctx, b.commandId)));
        return { attachment };
      },
    },
    networkDisconnect: {
      kind: "unary",
      handler: async (body, ctx) => {
        const b = bodyOf("networkDisconnect", body);
        await queue.run(b.id, () => networks.disconnect(b.id, b.network, meta(ctx, b.commandId)));
        return { disconnected: b.network };
      },
    },
    networkRemove: {
      kind: "unary",
      handler: async (body, ctx) => {
        const b = bodyOf("networkRemove", body);
        networks.command({ type: "networkRemove", name: b.name }, meta(ctx, b.commandId));
        return { removed: b.name };
      },
    },
  };
}
