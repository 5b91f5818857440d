// `berth port ID [PRIVATE_PORT[/PROTO]]`: the container's published ports, as docker port. berth
// has no port publishing yet (networking is `none` or `host`), so the list is empty; it still
// checks that the container exists, and a named port is refused as docker refuses an unpublished one.
import { BerthError } from "../../model/errors.js";
import type { ContainerState } from "../../projections/container.js";
import type { Session } from "../context.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "port",
  description: "list a container's published ports (none until berth publishes ports)",
  examples: ["berth port w", "berth port w 80/tcp"],
  flags: (cmd) => cmd.argument("<id>", "container id").argument("[private-port]", "a port, PORT[/tcp|udp]"),
  action: (s, _o, args) => port(s, args[0]!, args[1]),
};

export async function port(session: Session, id: string, privatePort?: string): Promise<number> {
  const state = await (await session.client(id)).state<ContainerState>();
  if (privatePort !== undefined) {
    const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(privatePort);
    if (!m) throw new BerthError("invalidArgument", `invalid port "${privatePort}": expected PORT[/tcp|udp|sctp]`);
    throw new BerthError("notFound", `no public port '${m[1]}/${m[2] ?? "tcp"}' published for ${state.name ?? state.id}`);
  }
  return 0; // nothing is published: an empty list, as docker prints for a container without -p
}
