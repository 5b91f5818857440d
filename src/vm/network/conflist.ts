// A berth network as a CNI configuration list for one attachment: the bridge plugin with
// host-local addresses (leases under the root), then tuning only for --mac-address and portmap
// only for published ports. Each plugin is a process to run at ADD and again at DEL, and
// portmap's DEL rewrites the nat table even when it mapped nothing, so a container gets just
// the plugins it needs. The list is kept in the attachment's record: DEL runs what ADD ran.
//
// No firewall plugin and no ipMasq: both add rules per container (ipMasq ~8 iptables calls at
// each ADD and DEL), where docker has one masquerade rule per bridge. berth writes its bridge's
// isolation and masquerade rules itself (host-firewall.ts) and removes them with the bridge.
//
// The CNI network's name is the bridge's, not the berth network's: the plugins name their
// iptables chains and host-local its lease directory after it, and two roots may both have a
// "bridge" network with a container "web" in it. The bridge name is unique per root and per
// network ever created, so nothing of one can touch the other's.
import { CNI_VERSION, type ConfList, type PluginConf } from "./cni.js";
import type { NetworkDefinition } from "../../model/network.js";

export interface ConfNeeds {
  /** Published ports: portmap. */
  ports: boolean;
  /** A chosen MAC address: tuning. */
  mac: boolean;
}

export function confList(network: NetworkDefinition, ipamDir: string, needs: ConfNeeds = { ports: false, mac: false }): ConfList {
  const plugins: PluginConf[] = [
    {
      type: "bridge",
      bridge: network.bridge,
      isGateway: true,
      hairpinMode: true,
      capabilities: { ips: true },
      ipam: {
        type: "host-local",
        ranges: [[{ subnet: network.subnet, gateway: network.gateway }]],
        routes: [{ dst: "0.0.0.0/0" }],
        dataDir: ipamDir,
      },
    },
  ];
  if (needs.mac) plugins.push({ type: "tuning", capabilities: { mac: true } });
  if (needs.ports) plugins.push({ type: "portmap", snat: true, capabilities: { portMappings: true } });
  return { cniVersion: CNI_VERSION, name: network.bridge, plugins };
}
