// `berth network create|ls|inspect|connect|disconnect|rm`: user-defined bridge networks
// (docs/network.md). Each change is journaled with who asked: NetworkCreated and NetworkRemoved,
// or a running container's NetworkAttached and NetworkDetached.
import { BerthError } from "../../model/errors.js";
import type { NetworkDefinition } from "../../model/network.js";
import type { NetworkView } from "../../daemon/network-routes.js";
import type { Session } from "../context.js";
import { parseFormat, table } from "../format.js";
import { out } from "../output.js";
import type { CommandGroup } from "./command.js";

export const command: CommandGroup = {
  kind: "group",
  name: "network",
  description: "manage networks",
  examples: ["berth network create --subnet 10.90.0.0/24 web", "berth run -d --network web --name api busybox httpd -f", "berth network rm web"],
  subcommands: [
    {
      kind: "command",
      name: "create",
      description: "create a bridge network; its subnet is picked from 10.89.0.0/16 unless given",
      examples: ["berth network create web", "berth network create --subnet 10.90.0.0/24 --gateway 10.90.0.1 web"],
      flags: (cmd) => cmd.option("--subnet <cidr>", "the network's IPv4 subnet").option("--gateway <ip>", "its gateway (default: the subnet's first address)").option("-d, --driver <driver>", "bridge (the only driver)", "bridge").argument("<name>", "network name"),
      action: async (s, o, args) => {
        if (o.driver !== "bridge") throw new BerthError("unsupported", `network driver ${String(o.driver)} is not supported: only bridge`);
        const r = await (await s.ipc()).call<{ network: NetworkDefinition }>("networkCreate", { name: args[0]!, ...(o.subnet ? { subnet: o.subnet } : {}), ...(o.gateway ? { gateway: o.gateway } : {}) });
        out(r.network.id);
        return 0;
      },
    },
    {
      kind: "command",
      name: "ls",
      description: "list networks",
      format: true,
      examples: ["berth network ls", "berth network ls -q"],
      flags: (cmd) => cmd.option("-q, --quiet", "only names"),
      action: (s, o) => list(s, o as { quiet?: boolean; format?: string }),
    },
    {
      kind: "command",
      name: "inspect",
      description: "print networks as JSON, with their containers' addresses (docker's shape)",
      examples: ["berth network inspect bridge"],
      flags: (cmd) => cmd.argument("<network...>", "names"),
      action: async (s, _o, args) => {
        const ipc = await s.ipc();
        const views = [];
        for (const name of args) views.push(dockerView(await ipc.call<NetworkView>("networkInspect", { name })));
        out(JSON.stringify(views, null, 2));
        return 0;
      },
    },
    {
      kind: "command",
      name: "connect",
      description: "connect a running container to one more network (a new interface, eth1 and on)",
      examples: ["berth network connect web api", "berth network connect --alias db --ip 10.90.0.9 web api"],
      flags: (cmd) =>
        cmd
          .option("--alias <name>", "another name for it on the network (repeatable)", (v: string, all: string[] = []) => [...all, v])
          .option("--ip <address>", "its IPv4 address on the network")
          .argument("<network>", "network name")
          .argument("<container>", "container id or name"),
      action: async (s, o, args) => {
        const aliases = (o.alias as string[] | undefined) ?? [];
        await (await s.ipc()).call("networkConnect", { network: args[0]!, id: args[1]!, ...(aliases.length ? { aliases } : {}), ...(o.ip ? { ip: o.ip } : {}) });
        return 0;
      },
    },
    {
      kind: "command",
      name: "disconnect",
      description: "disconnect a running container from a network",
      examples: ["berth network disconnect web api"],
      flags: (cmd) => cmd.argument("<network>", "network name").argument("<container>", "container id or name"),
      action: async (s, _o, args) => {
        await (await s.ipc()).call("networkDisconnect", { network: args[0]!, id: args[1]! });
        return 0;
      },
    },
    {
      kind: "command",
      name: "rm",
      description: "remove networks no container uses",
      examples: ["berth network rm web"],
      flags: (cmd) => cmd.argument("<network...>", "names"),
      action: async (s, _o, args) => {
        const ipc = await s.ipc();
        for (const name of args) {
          await ipc.call("networkRemove", { name });
          out(name);
        }
        return 0;
      },
    },
  ],
};

/** Listed as docker lists them, though they are modes rather than networks: nothing is journaled or plumbed for them. */
const PSEUDO_NETWORKS = [
  { name: "host", driver: "host" },
  { name: "none", driver: "null" },
];

async function list(s: Session, flags: { quiet?: boolean; format?: string }): Promise<number> {
  const { networks } = await (await s.ipc()).call<{ networks: NetworkView[] }>("networkList", {});
  const format = parseFormat(flags.format);
  if (flags.quiet) for (const name of [...networks.map((v) => v.network.name), ...PSEUDO_NETWORKS.map((p) => p.name)]) out(name);
  else if (format === "json") for (const v of networks) out(JSON.stringify(dockerView(v)));
  else {
    const rows = networks.map((v) => [v.network.id, v.network.name, v.network.driver, v.network.subnet, String(v.containers.length)]);
    out(table(["NETWORK ID", "NAME", "DRIVER", "SUBNET", "CONTAINERS"], [...rows, ...PSEUDO_NETWORKS.map((p) => [p.name, p.name, p.driver, "", "-"])]));
  }
  return 0;
}

/** docker network inspect's shape, with berth's bridge name in Options as docker's. */
export function dockerView(v: NetworkView): Record<string, unknown> {
  const n = v.network;
  return {
    Name: n.name,
    Id: n.id,
    Driver: n.driver,
    IPAM: { Driver: "host-local", Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
    Containers: Object.fromEntries(v.containers.map((c) => [c.id, { Name: c.name ?? c.id, IPv4Address: c.attachment.address, MacAddress: c.attachment.mac, Aliases: c.attachment.aliases }])),
    Options: { "com.docker.network.bridge.name": n.bridge },
    Labels: n.builtin ? { "io.berth.default": "true" } : {},
  };
}
