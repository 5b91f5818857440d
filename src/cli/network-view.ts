// A container's networks in docker's words: the PORTS column of `ps` and the NetworkSettings of
// `inspect`, from the attachments the journal holds (none while the container is stopped).
import type { NetworkAttachment, PortMapping } from "../model/network.js";
import type { ContainerState } from "../projections/container.js";

const attachments = (s: ContainerState): NetworkAttachment[] => Object.values(s.networks ?? {});

/** "127.0.0.1:18080->80/tcp, 0.0.0.0:40001->53/udp", as docker ps. */
export function portsColumn(s: ContainerState): string {
  return attachments(s)
    .flatMap((a) => a.ports)
    .map((p) => `${p.hostIp || "0.0.0.0"}:${p.hostPort}->${p.containerPort}/${p.protocol}`)
    .join(", ");
}

function portMap(ports: PortMapping[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const map: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) (map[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp || "0.0.0.0", HostPort: String(p.hostPort) });
  return map;
}

export function networkSettings(s: ContainerState) {
  const all = attachments(s);
  const first = all[0];
  const [ip, prefix] = first ? first.address.split("/") : ["", "0"];
  return {
    IPAddress: ip ?? "",
    IPPrefixLen: Number(prefix ?? 0),
    Gateway: first?.gateway ?? "",
    MacAddress: first?.mac ?? "",
    Ports: portMap(all.flatMap((a) => a.ports)),
    Networks: Object.fromEntries(
      all.map((a) => [a.network, { IPAddress: a.address.split("/")[0], IPPrefixLen: Number(a.address.split("/")[1]), Gateway: a.gateway, MacAddress: a.mac, Aliases: a.aliases }]),
    ),
  };
}

/** HostConfig.PortBindings: what was asked (host port "" where one is picked at start). */
export function portBindings(s: ContainerState): Record<string, { HostIp: string; HostPort: string }[]> {
  const map = portMap(s.config.ports ?? []);
  for (const list of Object.values(map)) for (const b of list) if (b.HostPort === "0") b.HostPort = "";
  return map;
}
