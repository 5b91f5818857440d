// A berth network as a CNI configuration list: the bridge plugin with host-local addresses
// (leases under the root), tuning for --mac-address, and portmap for published ports. No
// firewall plugin: its chains outlive every container, so berth keeps its own isolation rules
// (host-firewall.ts) and removes them with the bridge.
import { CNI_VERSION, type ConfList } from "./cni.js";
import type { NetworkDefinition } from "../../model/network.js";

export function confList(network: NetworkDefinition, ipamDir: string): ConfList {
  return {
    cniVersion: CNI_VERSION,
    name: network.name,
    plugins: [
      {
        type: "bridge",
        bridge: network.bridge,
        isGateway: true,
        // Outbound NAT, as docker's default bridge; tests never rely on it (docs/network.md).
        ipMasq: true,
        hairpinMode: true,
        capabilities: { ips: true },
        ipam: {
          type: "host-local",
          ranges: [[{ subnet: network.subnet, gateway: network.gateway }]],
          routes: [{ dst: "0.0.0.0/0" }],
          dataDir: ipamDir,
        },
      },
      { type: "tuning", capabilities: { mac: true } },
      { type: "portmap", snat: true, capabilities: { portMappings: true } },
    ],
  };
}
