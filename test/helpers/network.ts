// What the network tests need besides a daemon: the host's network state (to prove a test left
// it as it found it), what berth left on disk and in the kernel for one root (leases, veths,
// portmap rules, namespaces), and a daemon on the bridge network that is always torn down.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { join } from "node:path";
import * as assert from "uvu/assert";
import { networkPaths, rootTag } from "../../src/vm/paths.js";
import { berth, bin, ensureBuilt, tempRoot } from "./cli-env.js";
import { withDaemon as withDaemonFrame, type DaemonFrame } from "./daemon.js";

// Each program by name in its call, so test/setup-installs.test.ts finds it.
const OUT: import("node:child_process").ExecFileSyncOptionsWithStringEncoding = { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] };

export interface HostNetState {
  links: string[];
  routes: string[];
  iptables: string[];
  nft: string[];
}

/**
 * `ip link`, `ip route`, `iptables-save` and `nft list ruleset`, normalised: counters, comments
 * and tables or chains left empty are dropped (portmap leaves an empty nat table behind, and an
 * empty table filters nothing).
 */
export function hostNetState(): HostNetState {
  const links = execFileSync("ip", ["-o", "link", "show"], OUT).split("\n").filter(Boolean).map((l) => l.split(":")[1]!.trim().replace(/@.*/, "")).sort();
  const routes = execFileSync("ip", ["route", "show"], OUT).split("\n").filter(Boolean).sort();
  return { links, routes, iptables: iptablesRules(execFileSync("iptables-save", [], OUT)), nft: nftRules(execFileSync("nft", ["list", "ruleset"], OUT)) };
}

function iptablesRules(save: string): string[] {
  const rules: string[] = [];
  let table = "";
  for (const line of save.split("\n")) {
    if (line.startsWith("*")) table = line.slice(1);
    else if (line.startsWith("-A ")) rules.push(`${table} ${line}`);
    else if (line.startsWith(":") && !/^:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) /.test(line)) rules.push(`${table} chain ${line.split(" ")[0]}`);
    else if (line.startsWith(":")) rules.push(`${table} policy ${line.split(" ").slice(0, 2).join(" ")}`.replace(/ ACCEPT$/, ""));
  }
  // A builtin chain whose policy is the default (ACCEPT) exists only because something listed its table.
  return rules.filter((r) => !/ policy :\w+$/.test(r)).sort();
}

/** nft's ruleset as "table/chain rule" lines; a chain with no rules and the default policy counts for nothing. */
function nftRules(ruleset: string): string[] {
  const rules: string[] = [];
  let table = "";
  let chain = "";
  for (const raw of ruleset.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("table ")) table = line.replace(/ \{$/, "");
    else if (line.startsWith("chain ")) chain = line.replace(/ \{$/, "");
    else if (line === "}" || line === "") continue;
    else if (/^type .* policy accept;$/.test(line)) continue;
    else rules.push(`${table}/${chain} ${line.replace(/counter packets \d+ bytes \d+ ?/, "").replace(/ # handle \d+$/, "")}`);
  }
  return rules.sort();
}

/** Asserts the host's network state is `before`'s, naming what differs. */
export function assertHostUnchanged(before: HostNetState, what: string): void {
  const after = hostNetState();
  for (const key of ["links", "routes", "iptables", "nft"] as const) {
    const added = after[key].filter((l) => !before[key].includes(l));
    const removed = before[key].filter((l) => !after[key].includes(l));
    assert.equal({ added, removed }, { added: [], removed: [] }, `${what}: ${key} changed`);
  }
}

/** What berth holds on the host for `root`: lease files, namespace files, veths on its bridges, portmap rules by container. */
export interface RootNetHoldings {
  leases: { network: string; address: string; containerId: string }[];
  namespaces: string[];
  bridges: string[];
  veths: number;
  portmapIds: string[];
  /** Bridges that berth's own isolation and masquerade rules name. */
  ruleBridges: string[];
}

export function holdings(root: string): RootNetHoldings {
  const { ipam, netns } = networkPaths(root);
  const leases = listDir(ipam).flatMap((network) =>
    listDir(join(ipam, network))
      .filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))
      .map((address) => ({ network, address, containerId: fs.readFileSync(join(ipam, network, address), "utf8").split(/\s/)[0]! })),
  );
  const prefix = `bt${rootTag(root)}`;
  const bridges = execFileSync("ip", ["-o", "link", "show", "type", "bridge"], OUT).split("\n").filter(Boolean).map((l) => l.split(":")[1]!.trim()).filter((n) => n.startsWith(prefix));
  const veths = bridges.reduce((n, b) => n + execFileSync("ip", ["-o", "link", "show", "master", b, "type", "veth"], OUT).split("\n").filter(Boolean).length, 0);
  // portmap and the bridge plugin tag their nat rules with the CNI network (the bridge's name) and the container.
  const nat = execFileSync("iptables-save", ["-t", "nat"], OUT);
  const ids = (re: RegExp) => [...new Set([...nat.matchAll(re)].filter((m) => m[1]!.startsWith(prefix)).map((m) => m[2]!))].sort();
  return {
    leases,
    namespaces: listDir(netns),
    bridges,
    veths,
    portmapIds: ids(/dnat name: \\"([^\\]+)\\" id: \\"([^\\]+)\\"/g),
    ruleBridges: [...new Set([...execFileSync("iptables-save", [], OUT).matchAll(/"berth network ([^"]+)"/g)].map((m) => m[1]!).filter((b) => b.startsWith(prefix)))].sort(),
  };
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * A `berth daemon` on a fresh root whose default network is the bridge. Afterwards every
 * container is removed through the daemon (so CNI DELs what it added) and every user network
 * too, before the frame's own cleanup; the host must then be as it was.
 */
export async function withNetDaemon(fn: (root: string, frame: DaemonFrame) => Promise<void>, what: string): Promise<void> {
  ensureBuilt();
  const before = hostNetState();
  await withDaemonFrame(tempRoot(), async (frame) => {
    try {
      await fn(frame.root, frame);
    } finally {
      if (frame.daemon.child.exitCode !== null || frame.daemon.child.signalCode !== null) await frame.restart();
      const ids = (await berth(frame.root, ["ps", "-a", "-q", "--no-trunc"])).stdout.split("\n").filter(Boolean);
      if (ids.length) await berth(frame.root, ["rm", "-f", ...ids]);
      const networks = (await berth(frame.root, ["network", "ls", "-q"])).stdout.split("\n").filter((n) => n && !["bridge", "none", "host"].includes(n));
      if (networks.length) await berth(frame.root, ["network", "rm", ...networks]);
    }
    const left = holdings(frame.root);
    assert.equal({ ...left, leases: left.leases.length }, { leases: 0, namespaces: [], bridges: [], veths: 0, portmapIds: [], ruleBridges: [] }, `${what}: berth left network state behind`);
  }, { command: [bin, "daemon", "--default-network", "bridge"] });
  assertHostUnchanged(before, what);
}

/** A busybox httpd serving `text` at / on port 80, as a container's command. */
export const httpd = (text: string) => ["sh", "-c", `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];

/** The container's address on `network`, from inspect (without the prefix length). */
export async function addressOf(root: string, id: string, network = "bridge"): Promise<string> {
  const r = await berth(root, ["inspect", "-f", `{{with index .NetworkSettings.Networks "${network}"}}{{.IPAddress}}{{end}}`, id]);
  assert.is(r.code, 0, r.stderr);
  return r.stdout.trim();
}
