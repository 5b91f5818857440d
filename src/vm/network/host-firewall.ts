// What berth itself changes on the host for a network, beyond what the CNI plugins do and undo
// per container: the isolation and masquerade rules of its bridge, and the bridge itself. Both exist while a
// container is attached and go with the last one, with the chains portmap leaves behind once
// empty, so a host with no berth container attached looks as it did before (test/network-*).
import fs from "node:fs";
import { BerthError } from "../../model/errors.js";
import type { NetworkDefinition } from "../../model/network.js";
import { runCommand } from "../host.js";

/** Every berth bridge's name starts with it (then the root's tag: src/vm/paths.ts rootTag). */
export const BRIDGE_PREFIX = "bt";

const HOSTPORT_CHAINS = ["CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"];

/**
 * The rules of one bridge, by table. FORWARD, in order: its own traffic passes, traffic to
 * any other berth bridge (`bt+`, whichever root made it) is dropped, replies come back in and anything else
 * goes out; at the top, so a host whose policy is DROP (docker's) still forwards it. nat: one
 * masquerade for the subnet's way out, as docker's, instead of the bridge plugin's per container.
 */
function bridgeRules(network: NetworkDefinition): { filter: string[]; nat: string[] } {
  const bridge = network.bridge;
  const tag = `-m comment --comment "berth network ${bridge}"`;
  return {
    filter: [
      `-i ${bridge} -o ${bridge} ${tag} -j ACCEPT`,
      `-i ${bridge} -o ${BRIDGE_PREFIX}+ ${tag} -j DROP`,
      `-o ${bridge} -m conntrack --ctstate RELATED,ESTABLISHED ${tag} -j ACCEPT`,
      `-i ${bridge} ${tag} -j ACCEPT`,
    ],
    nat: [`-s ${network.subnet} ! -o ${bridge} ! -d 224.0.0.0/4 ${tag} -j MASQUERADE`],
  };
}

/** The bridge's rules as iptables-save prints them, as deletions, by table (whatever order or form they were found in). */
async function currentRules(bridge: string): Promise<{ filter: string[]; nat: string[] }> {
  const save = await runCommand("iptables-save", []);
  if (save.code !== 0) throw new BerthError("internalError", `cannot read the host's rules: iptables-save: ${save.stderr.trim()}`);
  const out = { filter: [] as string[], nat: [] as string[] };
  let table = "";
  for (const line of save.stdout.split("\n")) {
    if (line.startsWith("*")) table = line.slice(1);
    else if ((table === "filter" || table === "nat") && line.startsWith("-A ") && line.includes(`"berth network ${bridge}"`)) out[table].push(line.replace(/^-A/, "-D"));
  }
  return out;
}

/** One iptables-restore for both tables (each iptables process costs tens of milliseconds). */
async function restore(tables: { filter: string[]; nat: string[] }, what: string): Promise<void> {
  const input = (["filter", "nat"] as const).filter((t) => tables[t].length).map((t) => `*${t}\n${tables[t].join("\n")}\nCOMMIT\n`).join("");
  if (!input) return;
  const r = await runCommand("iptables-restore", ["--noflush", "--wait"], { input });
  if (r.code !== 0) throw new BerthError("internalError", `cannot ${what}: iptables-restore: ${r.stderr.trim()}`);
}

/** The bridge's rules, replacing any a crash left (between this and the journal). */
export async function isolateBridge(network: NetworkDefinition): Promise<void> {
  const old = await currentRules(network.bridge);
  const rules = bridgeRules(network);
  // Each -I lands on top: insert in reverse to keep the order above.
  await restore({ filter: [...old.filter, ...rules.filter.reverse().map((r) => `-I FORWARD 1 ${r}`)], nat: [...old.nat, ...rules.nat.map((r) => `-A POSTROUTING ${r}`)] }, `set up the rules of bridge ${network.bridge}`);
}

export async function unisolateBridge(bridge: string): Promise<void> {
  await restore(await currentRules(bridge), `remove the rules of bridge ${bridge}`);
}

export function bridgeExists(bridge: string): boolean {
  return fs.existsSync(`/sys/class/net/${bridge}`);
}

export async function removeBridge(bridge: string): Promise<void> {
  if (!bridgeExists(bridge)) return;
  const r = await runCommand("ip", ["link", "del", bridge]);
  if (r.code !== 0 && bridgeExists(bridge)) throw new BerthError("internalError", `cannot remove bridge ${bridge}: ${r.stderr.trim()}`);
}

/** portmap's top-level chains, once no container of anyone's has a port in them: removed with their jumps. */
export async function pruneHostportChains(): Promise<void> {
  const nat = await runCommand("iptables", ["-w", "-t", "nat", "-S"]);
  if (nat.code !== 0 || !nat.stdout.includes("-N CNI-HOSTPORT-DNAT")) return;
  const lines = nat.stdout.split("\n");
  const inUse = lines.some((l) => l.startsWith("-A CNI-HOSTPORT-DNAT ") || l.startsWith("-N CNI-DN-"));
  if (inUse) return;
  const jumps = lines.filter((l) => /^-A (PREROUTING|OUTPUT|POSTROUTING) .*-j CNI-HOSTPORT-(DNAT|MASQ)$/.test(l)).map((l) => l.replace(/^-A/, "-D"));
  const present = HOSTPORT_CHAINS.filter((c) => lines.includes(`-N ${c}`));
  const input = ["*nat", ...jumps, ...present.map((c) => `-F ${c}`), ...present.map((c) => `-X ${c}`), "COMMIT", ""].join("\n");
  const r = await runCommand("iptables-restore", ["--noflush", "--wait"], { input });
  // Another runtime's container may have taken a port meanwhile: its rules keep the chains, and that is fine.
  if (r.code !== 0) return;
}
