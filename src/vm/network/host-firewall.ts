// What berth itself changes on the host for a network, beyond what the CNI plugins do and undo
// per container: the isolation rules of its bridge, and the bridge itself. Both exist while a
// container is attached and go with the last one, with the chains portmap leaves behind once
// empty, so a host with no berth container attached looks as it did before (test/network-*).
import fs from "node:fs";
import { BerthError } from "../../model/errors.js";
import { runCommand } from "../host.js";

const HOSTPORT_CHAINS = ["CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"];

/**
 * The FORWARD rules of one bridge, in order: its own traffic passes, traffic to another of the
 * root's bridges (`prefix+`) is dropped, replies come back in and anything else goes out. At
 * the top of FORWARD, so a host whose policy is DROP (docker's) still forwards it.
 */
function isolationRules(bridge: string, prefix: string): string[] {
  const tag = `-m comment --comment "berth network ${bridge}"`;
  return [
    `-i ${bridge} -o ${bridge} ${tag} -j ACCEPT`,
    `-i ${bridge} -o ${prefix}+ ${tag} -j DROP`,
    `-o ${bridge} -m conntrack --ctstate RELATED,ESTABLISHED ${tag} -j ACCEPT`,
    `-i ${bridge} ${tag} -j ACCEPT`,
  ];
}

async function iptablesRestore(lines: string[], what: string): Promise<void> {
  const r = await runCommand("iptables-restore", ["--noflush", "--wait"], { input: `*filter\n${lines.join("\n")}\nCOMMIT\n` });
  if (r.code !== 0) throw new BerthError("internalError", `cannot ${what}: iptables-restore: ${r.stderr.trim()}`);
}

export async function isolateBridge(bridge: string, prefix: string): Promise<void> {
  await unisolateBridge(bridge); // never twice (a crash between this and the journal)
  // Each -I lands on top: insert in reverse to keep the order above.
  await iptablesRestore(isolationRules(bridge, prefix).reverse().map((r) => `-I FORWARD 1 ${r}`), `isolate bridge ${bridge}`);
}

/** Removes the bridge's rules as iptables prints them (whatever order or form they were found in). */
export async function unisolateBridge(bridge: string): Promise<void> {
  const current = await runCommand("iptables", ["-w", "-S", "FORWARD"]);
  const ours = current.stdout.split("\n").filter((l) => l.startsWith("-A FORWARD ") && l.includes(`"berth network ${bridge}"`));
  if (ours.length) await iptablesRestore(ours.map((l) => l.replace(/^-A/, "-D")), `remove the isolation of bridge ${bridge}`);
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
