// Networks and what a container asks of them: the types every layer agrees on, and their pure
// validation. A network is a bridge with a subnet (docs/network.md); the CNI plugins do the
// plumbing (src/vm/network/). Subnets are IPv4 CIDRs: IPv6 is off, as in docker by default.
import type { ErrorInfo } from "./errors.js";
import type { Validated } from "./config.js";

/** A network as journaled by NetworkCreated. */
export interface NetworkDefinition {
  name: string;
  /** 12 hex digits, given by the daemon: names the bridge, so a name reused later gets a new one. */
  id: string;
  driver: "bridge";
  subnet: string;
  gateway: string;
  /** The host's bridge interface (at most 15 characters, unique per berth root). */
  bridge: string;
  /** The default network every daemon creates for itself: it cannot be removed. */
  builtin: boolean;
}

export const DEFAULT_NETWORK = "bridge";

/** `-p`: where the host forwards to the container. hostPort 0 = pick a free one at attach. */
export interface PortMapping {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

export type Protocol = "tcp" | "udp";

/** A container's place on one network, as NetworkAttached journals it. */
export interface NetworkAttachment {
  network: string;
  /** The interface inside the container. */
  interface: string;
  /** "10.89.3.2/24". */
  address: string;
  gateway: string;
  mac: string;
  /** With hostPort as picked (never 0). */
  ports: PortMapping[];
  aliases: string[];
}

/** The `--add-host NAME:IP` entries and `--dns*` settings of a container. */
export interface DnsConfig {
  servers: string[];
  search: string[];
  options: string[];
}

export interface ExtraHost {
  name: string;
  ip: string;
}

const ok = <T>(value: T): Validated<T> => ({ ok: true, value });
const bad = <T>(message: string): Validated<T> => ({ ok: false, error: { code: "invalidArgument", message } });

/** What a container's `network` setting means. */
export type NetworkMode = { kind: "none" } | { kind: "host" } | { kind: "container"; container: string } | { kind: "network"; name: string };

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

export function parseNetworkMode(text: string): NetworkMode {
  if (text === "none" || text === "host") return { kind: text };
  if (text.startsWith("container:")) return { kind: "container", container: text.slice("container:".length) };
  return { kind: "network", name: text };
}

export function validateNetworkName(name: unknown): Validated<string> {
  if (typeof name !== "string" || !NAME_PATTERN.test(name) || name.includes("..")) return bad(`invalid network name ${JSON.stringify(name)}: expected 1-64 characters of [a-zA-Z0-9_.-], starting with a letter or digit`);
  if (name === "none" || name === "host") return bad(`network name "${name}" is reserved: it is a network mode`);
  return ok(name);
}

// --- IPv4 addresses and CIDRs -------------------------------------------------------------

export interface Cidr {
  base: number; // the network address, as an unsigned 32-bit number
  prefix: number;
}

export function parseIp(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export const formatIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");

const maskOf = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** "10.89.0.0/24" (host bits must be zero, as docker requires of --subnet). */
export function parseCidr(text: string): Validated<Cidr> {
  const [ip, len, extra] = text.split("/");
  const base = parseIp(ip ?? "");
  const prefix = Number(len);
  if (base === undefined || extra !== undefined || !/^\d{1,2}$/.test(len ?? "") || prefix > 30 || prefix < 8) return bad(`invalid subnet "${text}": expected an IPv4 CIDR such as 10.90.0.0/24, with a prefix of 8 to 30`);
  if ((base & ~maskOf(prefix)) >>> 0 !== 0) return bad(`invalid subnet "${text}": the address has host bits set (did you mean ${formatIp((base & maskOf(prefix)) >>> 0)}/${prefix}?)`);
  return ok({ base, prefix });
}

export const formatCidr = (c: Cidr) => `${formatIp(c.base)}/${c.prefix}`;

export function cidrContains(c: Cidr, ip: number): boolean {
  return (ip & maskOf(c.prefix)) >>> 0 === c.base;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  return (a.base & maskOf(prefix)) >>> 0 === (b.base & maskOf(prefix)) >>> 0;
}

/** The first address after the network's: docker's default gateway. */
export const defaultGateway = (c: Cidr) => formatIp(c.base + 1);

/**
 * The first /24 of `pool` that overlaps none of `taken` (the host's routes and the root's other
 * networks), starting at `offset` /24s in: the offset comes from the root, so two roots on one
 * host start apart. Undefined when the pool is full.
 */
export function pickSubnet(pool: Cidr, taken: Cidr[], offset: number): Cidr | undefined {
  const count = 2 ** (24 - pool.prefix);
  for (let i = 0; i < count; i++) {
    const candidate = { base: (pool.base + ((offset + i) % count) * 256) >>> 0, prefix: 24 };
    if (!taken.some((t) => cidrsOverlap(t, candidate))) return candidate;
  }
  return undefined;
}

/** Checks --subnet/--gateway for `network create`: the gateway must be a host address of the subnet. */
export function validateSubnet(subnet: string, gateway: string | undefined, others: NetworkDefinition[]): Validated<{ subnet: string; gateway: string }> {
  const parsed = parseCidr(subnet);
  if (!parsed.ok) return parsed;
  const clash = others.find((n) => {
    const theirs = parseCidr(n.subnet);
    return theirs.ok && cidrsOverlap(theirs.value, parsed.value);
  });
  if (clash) return bad(`subnet ${subnet} overlaps network ${clash.name} (${clash.subnet})`);
  const gw = gateway ?? defaultGateway(parsed.value);
  const gwIp = parseIp(gw);
  const broadcast = parsed.value.base + 2 ** (32 - parsed.value.prefix) - 1;
  if (gwIp === undefined || !cidrContains(parsed.value, gwIp) || gwIp === parsed.value.base || gwIp === broadcast) return bad(`invalid gateway "${gw}": expected a host address inside ${subnet}`);
  return ok({ subnet: formatCidr(parsed.value), gateway: gw });
}

// --- Ports -------------------------------------------------------------------------------

const portOf = (text: string): number | undefined => (/^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535 ? Number(text) : undefined);

/** A range "8000-8002" or one port: the ports in it. */
function portRange(text: string): number[] | undefined {
  const [from, to, extra] = text.split("-");
  const a = portOf(from ?? "");
  const b = to === undefined ? a : portOf(to);
  if (a === undefined || b === undefined || extra !== undefined || b < a) return undefined;
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/**
 * docker's `-p [hostIp:][hostPort:]containerPort[/proto]` (ranges too, as equal-length pairs);
 * a missing host port is 0: picked at attach. Every mapping of the spec, or why not.
 */
export function parsePortSpec(spec: string): Validated<PortMapping[]> {
  const fail = (why: string) => bad<PortMapping[]>(`invalid port spec "${spec}": ${why}`);
  const [body, proto = "tcp", more] = spec.split("/");
  if (more !== undefined || (proto !== "tcp" && proto !== "udp")) return fail("the protocol must be tcp or udp");
  const parts = body!.split(":");
  if (parts.length > 3) return fail("expected [hostIp:][hostPort:]containerPort[/tcp|udp]");
  const container = portRange(parts.at(-1)!);
  if (!container) return fail("the container port must be a number from 1 to 65535 (or a range a-b)");
  const hostPart = parts.length >= 2 ? parts.at(-2)! : "";
  const hostIp = parts.length === 3 ? parts[0]! : "";
  if (hostIp !== "" && parseIp(hostIp) === undefined) return fail(`the host address "${hostIp}" is not an IPv4 address`);
  const host = hostPart === "" ? container.map(() => 0) : portRange(hostPart);
  if (!host) return fail("the host port must be a number from 1 to 65535 (or a range a-b)");
  if (host.length !== container.length) return fail("the host and container port ranges differ in length");
  return ok(container.map((containerPort, i) => ({ hostIp, hostPort: host[i]!, containerPort, protocol: proto })));
}

/** `--expose 80[/tcp]` and an image's ExposedPorts keys ("80/tcp"). */
export function parseExposed(spec: string): Validated<{ port: number; protocol: Protocol }[]> {
  const [body, proto = "tcp"] = spec.split("/");
  const ports = portRange(body ?? "");
  if (!ports || (proto !== "tcp" && proto !== "udp")) return bad(`invalid exposed port "${spec}": expected PORT[/tcp|udp] or a range`);
  return ok(ports.map((port) => ({ port, protocol: proto })));
}

/** "127.0.0.1:18080->80/tcp", as docker's PORTS column. */
export const formatPort = (p: PortMapping) => `${p.hostIp || "0.0.0.0"}:${p.hostPort}->${p.containerPort}/${p.protocol}`;

/** Two mappings that want the same host socket (0.0.0.0 clashes with every address). */
export function portsClash(a: PortMapping, b: PortMapping): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && a.hostPort !== 0 && (a.hostIp === b.hostIp || a.hostIp === "" || b.hostIp === "" || a.hostIp === "0.0.0.0" || b.hostIp === "0.0.0.0");
}

export function validatePorts(input: unknown): Validated<PortMapping[]> {
  if (!Array.isArray(input)) return bad("ports must be a list");
  const ports: PortMapping[] = [];
  for (const [i, p] of (input as Partial<PortMapping>[]).entries()) {
    const hostIp = p?.hostIp ?? "";
    const fine = p && (hostIp === "" || parseIp(hostIp) !== undefined) && Number.isInteger(p.hostPort) && p.hostPort! >= 0 && p.hostPort! <= 65535 && portOf(String(p.containerPort)) !== undefined && (p.protocol === "tcp" || p.protocol === "udp");
    if (!fine) return bad(`ports[${i}] must be { hostIp, hostPort 0-65535, containerPort 1-65535, protocol tcp|udp }`);
    const mapping = { hostIp, hostPort: p.hostPort!, containerPort: p.containerPort!, protocol: p.protocol! };
    const twin = ports.find((q) => portsClash(q, mapping));
    if (twin) return bad(`host port ${mapping.hostPort}/${mapping.protocol} is published twice`);
    ports.push(mapping);
  }
  return ok(ports);
}

export function validateDns(input: unknown): Validated<DnsConfig> {
  const d = (input ?? {}) as Partial<DnsConfig>;
  const lists = [d.servers ?? [], d.search ?? [], d.options ?? []];
  if (!lists.every((l) => Array.isArray(l) && l.every((s) => typeof s === "string" && s !== "" && !/\s/.test(s)))) return bad("dns servers, search domains and options must be lists of words");
  const badServer = (d.servers ?? []).find((s) => parseIp(s) === undefined);
  if (badServer !== undefined) return bad(`invalid --dns "${badServer}": expected an IPv4 address`);
  return ok({ servers: [...lists[0]!], search: [...lists[1]!], options: [...lists[2]!] });
}

export function parseExtraHost(text: string): Validated<ExtraHost> {
  const at = text.indexOf(":");
  const name = text.slice(0, at);
  const ip = text.slice(at + 1);
  if (at < 1 || !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,252})$/.test(name) || parseIp(ip) === undefined) return bad(`invalid --add-host "${text}": expected NAME:IPv4`);
  return ok({ name, ip });
}

export const isMac = (text: string) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text) && (parseInt(text.slice(0, 2), 16) & 1) === 0;

export const networkError = (code: ErrorInfo["code"], message: string): ErrorInfo => ({ code, message });
