// `berth port ID [PRIVATE_PORT[/PROTO]]`: the container's published ports as its attachments
// journaled them (with the host ports picked for `-p 80` and -P), in docker's words.
import { BerthError } from "../../model/errors.js";
import type { PortMapping } from "../../model/network.js";
import type { ContainerState } from "../../projections/container.js";
import type { Session } from "../context.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "port",
  description: "list a container's published ports",
  examples: ["berth port w", "berth port w 80/tcp"],
  flags: (cmd) => cmd.argument("<id>", "container id").argument("[private-port]", "a port, PORT[/tcp|udp]"),
  action: (s, _o, args) => port(s, args[0]!, args[1]),
};

export const publishedPorts = (state: ContainerState): PortMapping[] => Object.values(state.networks ?? {}).flatMap((a) => a.ports);

const hostSide = (p: PortMapping) => `${p.hostIp || "0.0.0.0"}:${p.hostPort}`;

export async function port(session: Session, id: string, privatePort?: string): Promise<number> {
  const state = await (await session.client(id)).state<ContainerState>();
  const ports = publishedPorts(state);
  if (privatePort === undefined) {
    for (const p of ports) out(`${p.containerPort}/${p.protocol} -> ${hostSide(p)}`);
    return 0;
  }
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(privatePort);
  if (!m) throw new BerthError("invalidArgument", `invalid port "${privatePort}": expected PORT[/tcp|udp|sctp]`);
  const matching = ports.filter((p) => p.containerPort === Number(m[1]) && p.protocol === (m[2] ?? "tcp"));
  if (matching.length === 0) throw new BerthError("notFound", `no public port '${m[1]}/${m[2] ?? "tcp"}' published for ${state.name ?? state.id}`);
  for (const p of matching) out(hostSide(p));
  return 0;
}
