// A container's /etc/hostname, /etc/hosts and /etc/resolv.conf, as docker writes them: written
// under the container's directory and bind-mounted over the image's. /etc/hosts is rewritten
// in place (same inode, so the bind mount shows it) as peers join and leave its networks.
import fs from "node:fs";
import { join } from "node:path";
import type { ContainerConfig } from "../../model/config.js";

export interface HostsEntry {
  ip: string;
  names: string[];
}

const LOCALHOST = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", "fe00::0\tip6-localnet", "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters"];

/** localhost, the --add-host lines, the container itself, then its peers on user-defined networks. */
export function renderHosts(self: HostsEntry | undefined, extra: ContainerConfig["extraHosts"], peers: HostsEntry[]): string {
  const lines = [...LOCALHOST];
  for (const h of extra ?? []) lines.push(`${h.ip}\t${h.name}`);
  if (self) lines.push(`${self.ip}\t${self.names.join(" ")}`);
  for (const p of peers) lines.push(`${p.ip}\t${p.names.join(" ")}`);
  return `${lines.join("\n")}\n`;
}

const isLoopback = (server: string) => server.startsWith("127.") || server === "::1";

/**
 * The host's resolv.conf as a container on its own network sees it: loopback nameservers
 * dropped (they would be the container's own loopback), docker's public fallback when none is
 * left, and --dns, --dns-search and --dns-option replacing their kind of line.
 */
export function renderResolvConf(host: string, dns: ContainerConfig["dns"], ownNetwork: boolean): string {
  const lines = host.split("\n").map((l) => l.trim());
  const of = (key: string) => lines.filter((l) => l.startsWith(`${key} `) || l.startsWith(`${key}\t`)).map((l) => l.slice(key.length).trim());
  let servers = of("nameserver").filter((s) => !ownNetwork || !isLoopback(s));
  if (ownNetwork && servers.length === 0) servers = ["8.8.8.8", "8.8.4.4"];
  if (dns?.servers.length) servers = dns.servers;
  const search = dns?.search.length ? dns.search.join(" ") : of("search").join(" ") || of("domain").join(" ");
  const options = dns?.options.length ? dns.options.join(" ") : of("options").join(" ");
  const out = servers.map((s) => `nameserver ${s}`);
  if (search) out.push(`search ${search}`);
  if (options) out.push(`options ${options}`);
  return `${out.join("\n")}\n`;
}

function readHostFile(path: string): string {
  try {
    return fs.readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Writes the three files into `dir`; `self` is the container's address, absent without a network of its own. */
export function writeEtcFiles(dir: string, config: ContainerConfig, hostMode: boolean, self: HostsEntry | undefined, peers: HostsEntry[]): void {
  fs.mkdirSync(dir, { recursive: true });
  const hosts = hostMode ? `${readHostFile("/etc/hosts").trimEnd()}\n${renderHosts(undefined, config.extraHosts, []).split("\n").slice(LOCALHOST.length).join("\n")}` : renderHosts(self, config.extraHosts, peers);
  writeInPlace(join(dir, "hosts"), hosts);
  writeInPlace(join(dir, "resolv.conf"), renderResolvConf(readHostFile("/etc/resolv.conf"), config.dns, !hostMode));
  writeInPlace(join(dir, "hostname"), `${config.hostname}\n`);
}

/** Rewrites the container's /etc/hosts as its peers changed. */
export function rewriteHosts(dir: string, config: ContainerConfig, self: HostsEntry | undefined, peers: HostsEntry[]): void {
  if (fs.existsSync(join(dir, "hosts"))) writeInPlace(join(dir, "hosts"), renderHosts(self, config.extraHosts, peers));
}

// Truncate and write the same inode: a rename would leave the container's bind mount on the old file.
function writeInPlace(path: string, text: string): void {
  fs.writeFileSync(path, text);
}

export const ETC_FILES = ["hostname", "hosts", "resolv.conf"] as const;
