// Published host ports. portmap's DNAT reserves nothing, so before any CNI ADD berth checks the
// kernel's socket tables: a port a host process listens on (tcp) or has bound (udp) is taken.
// Ports other containers publish are the projection's to tell (src/daemon/network-effects.ts).
import fs from "node:fs";
import { BerthError } from "../../model/errors.js";
import type { PortMapping, Protocol } from "../../model/network.js";

const TCP_LISTEN = "0A";

/** The local ports in use for `protocol`, IPv4 and IPv6. */
export function boundPorts(protocol: Protocol): Set<number> {
  const ports = new Set<number>();
  for (const file of [`/proc/net/${protocol}`, `/proc/net/${protocol}6`]) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      continue; // no IPv6 on this host
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (!local || (protocol === "tcp" && fields[3] !== TCP_LISTEN)) continue;
      ports.add(parseInt(local.split(":")[1]!, 16));
    }
  }
  return ports;
}

/** The kernel's ephemeral range, where docker picks a port for `-p 80` too. */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (lo && hi && lo <= hi) return [lo, hi];
  } catch {
    // fall through to the kernel's default
  }
  return [32768, 60999];
}

/**
 * The mappings with every host port 0 replaced by a free one, or `exists` for a port taken on
 * the host or in `held` (ports other containers publish, as "tcp:8080").
 */
export function resolveHostPorts(ports: PortMapping[], held: Set<string>, random: () => number = Math.random): PortMapping[] {
  const bound = { tcp: boundPorts("tcp"), udp: boundPorts("udp") };
  const taken = (p: Protocol, port: number) => bound[p].has(port) || held.has(`${p}:${port}`);
  const [lo, hi] = ephemeralRange();
  return ports.map((p) => {
    if (p.hostPort !== 0) {
      if (bound[p.protocol].has(p.hostPort)) throw new BerthError("exists", `host port ${p.hostPort}/${p.protocol} is already in use by a process on the host`);
      if (held.has(`${p.protocol}:${p.hostPort}`)) throw new BerthError("exists", `host port ${p.hostPort}/${p.protocol} is already published by another container`);
      held.add(`${p.protocol}:${p.hostPort}`);
      return p;
    }
    for (let tries = 0; tries < 1000; tries++) {
      const port = lo + Math.floor(random() * (hi - lo + 1));
      if (taken(p.protocol, port)) continue;
      held.add(`${p.protocol}:${port}`);
      return { ...p, hostPort: port };
    }
    throw new BerthError("exists", `no free host port for ${p.containerPort}/${p.protocol} in ${lo}-${hi}`);
  });
}
