// The network flags of `run` and `create`, docker's names and grammar: --network, -p/--publish,
// -P/--publish-all, --expose, --ip, --mac-address, --network-alias, --dns, --dns-search,
// --dns-option and --add-host. Each is checked here, so a bad one fails before anything is
// journaled; the daemon checks again (and whether the network exists).
import type { Command } from "commander";
import type { ContainerConfigInput } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import { parseExposed, parseExtraHost, parsePortSpec, type PortMapping } from "../model/network.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface NetworkFlags {
  network?: string;
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  ip?: string;
  macAddress?: string;
  networkAlias?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
}

export function networkFlags(cmd: Command): Command {
  return cmd
    .option("--network <mode>", "bridge (the default network), a network's name, none, host, or container:<id> (share its network)")
    .option("-p, --publish <[ip:]host:container[/proto]>", "publish a container port on the host; -p 80 picks a free host port (repeatable)", collect, [])
    .option("-P, --publish-all", "publish every exposed port (the image's and --expose) on a free host port")
    .option("--expose <port[/proto]>", "expose a port (or range) without publishing it (repeatable)", collect, [])
    .option("--ip <address>", "the container's IPv4 address on its network")
    .option("--mac-address <mac>", "the container's MAC address on its network")
    .option("--network-alias <name>", "another name the container answers to on a user-defined network (repeatable)", collect, [])
    .option("--dns <ip>", "a nameserver for /etc/resolv.conf (repeatable)", collect, [])
    .option("--dns-search <domain>", "a search domain for /etc/resolv.conf (repeatable)", collect, [])
    .option("--dns-option <opt>", "an options entry for /etc/resolv.conf (repeatable)", collect, [])
    .option("--add-host <name:ip>", "add a line to /etc/hosts (repeatable)", collect, []);
}

const orThrow = <T>(v: { ok: true; value: T } | { ok: false; error: { code: "invalidArgument" | string; message: string } }): T => {
  if (!v.ok) throw new BerthError("invalidArgument", v.error.message);
  return v.value;
};

/** The config fields the flags ask for; absent ones are left to the daemon (its default network). */
export function networkConfig(given: NetworkFlags): Partial<ContainerConfigInput> {
  const flags = { publish: [], expose: [], networkAlias: [], dns: [], dnsSearch: [], dnsOption: [], addHost: [], ...given } satisfies Required<Pick<NetworkFlags, "publish">> & NetworkFlags;
  const out: Partial<ContainerConfigInput> = {};
  if (flags.network !== undefined) out.network = flags.network;
  const ports: PortMapping[] = flags.publish.flatMap((spec) => orThrow(parsePortSpec(spec)));
  if (ports.length) out.ports = ports;
  if (flags.publishAll) out.publishAll = true;
  const exposed = flags.expose.flatMap((spec) => orThrow(parseExposed(spec)).map((e) => `${e.port}/${e.protocol}`));
  if (exposed.length) out.exposed = exposed;
  if (flags.ip !== undefined) out.ip = flags.ip;
  if (flags.macAddress !== undefined) out.mac = flags.macAddress.toLowerCase();
  if (flags.networkAlias.length) out.aliases = flags.networkAlias;
  if (flags.dns.length || flags.dnsSearch.length || flags.dnsOption.length) out.dns = { servers: flags.dns, search: flags.dnsSearch, options: flags.dnsOption };
  if (flags.addHost.length) out.extraHosts = flags.addHost.map((h) => orThrow(parseExtraHost(h)));
  return out;
}
