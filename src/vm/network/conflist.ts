// A berth network as a CNI configuration list: the bridge plugin with host-local addresses
// (leases under the root), tuning for --mac-address, and portmap for published ports. No
// firewall plugin: its chains outlive every container, so berth keeps its own isolation rules
// (host-firewall.ts) and removes them with the bridge.
//
// The CNI network's name is the bridge's, not the berth network's: the plugins name their
// iptables chains and host-local its lease directory after it, and two roots may both have a
// "bridge" network with a container "web" in it. The bridge name is unique per root and per
// network ever created, so nothing of one can touch the other's.
import { CNI_VERSION, type ConfList } from "./cni.js";
import type { NetworkDefinition } from "../../model/network.js";

export function confList(network: NetworkDefinition, ipamDir: string): ConfList {
  return {
    cniVersion: CNI_VERSION,
    name: network.bridge,
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
