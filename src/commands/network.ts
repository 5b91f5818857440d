// The network decider: `network create` and `network rm` against the projection, and the check
// a container's network settings must pass at create. Pure: the network's id, the host's routes
// and the root's bridge prefix are passed in by the daemon, which gathered them.
import type { ErrorCode, ErrorInfo } from "../model/errors.js";
import type { ContainerConfig } from "../model/config.js";
import type { NetworkEvent } from "../events/catalogue.js";
import { formatCidr, parseCidr, pickSubnet, defaultGateway, parseNetworkMode, validateNetworkName, validateSubnet, type Cidr, type NetworkDefinition } from "../model/network.js";
import { attachedTo, networksOf, type Projection } from "../projections/index.js";

export type NetworkCommand =
  | { type: "networkCreate"; name: string; subnet?: string; gateway?: string; builtin?: boolean }
  | { type: "networkRemove"; name: string };

/** What the daemon knows of the host when it decides a create. */
export interface NetworkContext {
  /** A fresh id (12 hex digits). */
  id: string;
  /** The root's bridge prefix: "bt" and 6 hex digits of the root's hash. */
  bridgePrefix: string;
  /** The host's routed subnets: a picked subnet avoids them. */
  hostRoutes: Cidr[];
  /** Where this root starts looking in the pool, in /24s. */
  poolOffset: number;
}

export type NetworkDecision = { ok: true; events: NetworkEvent[] } | { ok: false; error: ErrorInfo };

const reject = (code: ErrorCode, message: string): NetworkDecision => ({ ok: false, error: { code, message } });

/** Where picked subnets come from: 10.89.0.0/16 in /24s, as podman's 10.89.x. */
export const SUBNET_POOL: Cidr = { base: (10 << 24) | (89 << 16), prefix: 16 };

export function decideNetwork(projection: Projection, command: NetworkCommand, ctx: NetworkContext): NetworkDecision {
  const networks = networksOf(projection);
  switch (command.type) {
    case "networkCreate": {
      if (!command.builtin) {
        const name = validateNetworkName(command.name);
        if (!name.ok) return { ok: false, error: name.error };
      }
      if (networks[command.name]) return reject("exists", `network ${command.name} already exists`);
      const address = command.subnet ? validateSubnet(command.subnet, command.gateway, Object.values(networks)) : picked(networks, ctx, command.gateway);
      if (!address.ok) return address;
      const bridge = `${ctx.bridgePrefix}${ctx.id.slice(0, 5)}`;
      if (Object.values(networks).some((n) => n.bridge === bridge)) return reject("internalError", `bridge name ${bridge} is taken: try again`);
      const definition: NetworkDefinition = { name: command.name, id: ctx.id, driver: "bridge", subnet: address.value.subnet, gateway: address.value.gateway, bridge, builtin: command.builtin === true };
      return { ok: true, events: [{ type: "NetworkCreated", data: definition }] };
    }
    case "networkRemove": {
      const network = networks[command.name];
      if (!network) return reject("notFound", `network ${command.name} not found`);
      if (network.builtin) return reject("invalidArgument", `network ${command.name} is the default network: it cannot be removed`);
      const users = usersOf(projection, command.name);
      if (users.length) return reject("invalidState", `network ${command.name} is in use by container${users.length > 1 ? "s" : ""} ${users.join(", ")}`);
      return { ok: true, events: [{ type: "NetworkRemoved", data: { name: network.name, id: network.id } }] };
    }
  }
}

function picked(networks: Record<string, NetworkDefinition>, ctx: NetworkContext, gateway: string | undefined) {
  const taken = [...ctx.hostRoutes, ...Object.values(networks).flatMap((n) => (parseCidr(n.subnet).ok ? [(parseCidr(n.subnet) as { value: Cidr }).value] : []))];
  const subnet = pickSubnet(SUBNET_POOL, taken, ctx.poolOffset);
  if (!subnet) return { ok: false as const, error: { code: "exists" as const, message: `no free subnet left in ${formatCidr(SUBNET_POOL)}: pass --subnet` } };
  if (gateway !== undefined) return validateSubnet(formatCidr(subnet), gateway, []);
  return { ok: true as const, value: { subnet: formatCidr(subnet), gateway: defaultGateway(subnet) } };
}

/** Containers that name the network in their config (attached or not: a stopped one comes back to it). */
function usersOf(projection: Projection, name: string): string[] {
  const users = new Set(attachedTo(projection, name).map((c) => c.name ?? c.id));
  for (const c of Object.values(projection.containers)) if (c.config.network === name) users.add(c.name ?? c.id);
  return [...users].sort();
}

/** Why a container with `config` cannot be created now, or undefined: its network must exist. */
export function networkProblem(projection: Projection, config: ContainerConfig): ErrorInfo | undefined {
  const mode = parseNetworkMode(config.network);
  if (mode.kind === "network" && !networksOf(projection)[mode.name]) return { code: "notFound", message: `network ${mode.name} not found` };
  if (mode.kind === "container" && !projection.containers[mode.container] && !Object.values(projection.containers).some((c) => c.name === mode.container)) {
    return { code: "notFound", message: `cannot join the network of container ${mode.container}: no such container` };
  }
  if (config.ip !== undefined && mode.kind === "network") {
    const subnet = parseCidr(networksOf(projection)[mode.name]!.subnet);
    const ip = config.ip;
    const inside = subnet.ok && validateSubnet(formatCidr(subnet.value), ip, []).ok;
    if (!inside) return { code: "invalidArgument", message: `--ip ${ip} is not a host address of network ${mode.name} (${networksOf(projection)[mode.name]!.subnet})` };
  }
  return undefined;
}
