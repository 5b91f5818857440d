// The CNI protocol (https://www.cni.dev/docs/spec/), for a network configuration list: each
// plugin runs with CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_PATH in its
// environment and its configuration on stdin, where berth adds the list's name and version,
// the previous plugin's result, and the runtime settings the plugin declares it takes
// (`capabilities`). ADD runs the plugins in order, DEL and CHECK in reverse; DEL and CHECK get
// the ADD's result. No kept npm package speaks it, so this small module does.
import { BerthError } from "../../model/errors.js";
import { runCommand } from "../host.js";

export const CNI_VERSION = "1.0.0";
/** Debian's containernetworking-plugins puts them here (not /opt/cni/bin). */
export const DEFAULT_CNI_PATH = "/usr/lib/cni";

export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface ConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { interface?: number; address: string; gateway?: string }[];
  routes?: { dst: string; gw?: string }[];
  dns?: unknown;
}

export interface CniTarget {
  containerId: string;
  netns: string;
  ifname: string;
  /** Values for the plugins' capabilities, by capability name (portMappings, mac, ips). */
  runtimeConfig: Record<string, unknown>;
}

export type CniCommand = "ADD" | "DEL" | "CHECK";

const cniPath = () => process.env.BERTH_CNI_PATH ?? DEFAULT_CNI_PATH;

/** The configuration one plugin reads on stdin. */
export function pluginInput(list: ConfList, plugin: PluginConf, target: CniTarget, prevResult: CniResult | undefined): Record<string, unknown> {
  const runtimeConfig: Record<string, unknown> = {};
  for (const [capability, on] of Object.entries(plugin.capabilities ?? {})) {
    if (on && target.runtimeConfig[capability] !== undefined) runtimeConfig[capability] = target.runtimeConfig[capability];
  }
  const input: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  if (Object.keys(runtimeConfig).length) input.runtimeConfig = runtimeConfig;
  if (prevResult) input.prevResult = prevResult;
  return input;
}

/** Runs one plugin; its parsed stdout (ADD's result; nothing for DEL and CHECK). */
async function runPlugin(command: CniCommand, type: string, input: Record<string, unknown>, target: CniTarget): Promise<CniResult | undefined> {
  const env = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", CNI_COMMAND: command, CNI_CONTAINERID: target.containerId, CNI_NETNS: target.netns, CNI_IFNAME: target.ifname, CNI_PATH: cniPath() };
  const r = await runCommand(`${cniPath()}/${type}`, [], { env, input: JSON.stringify(input) }).catch((e: Error) => {
    throw new BerthError("internalError", `cannot run the CNI plugin ${type} from ${cniPath()}: ${e.message} (scripts/setup.sh installs containernetworking-plugins)`);
  });
  const stdout = r.stdout.trim();
  if (r.code !== 0) throw pluginError(type, command, stdout, r.stderr.trim());
  if (command !== "ADD") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new BerthError("internalError", `the CNI plugin ${type} printed a result that is not JSON: ${stdout.slice(0, 200)}`);
  }
  return checkResult(type, parsed);
}

/** The spec's error object ({ code, msg, details }) in words. */
function pluginError(type: string, command: CniCommand, stdout: string, stderr: string): BerthError {
  let message = stdout || stderr || "no output";
  try {
    const e = JSON.parse(stdout) as { code?: number; msg?: string; details?: string };
    if (e.msg) message = `${e.msg}${e.details ? `: ${e.details}` : ""} (CNI error ${e.code ?? "?"})`;
  } catch {
    // not the spec's error object: show what it said
  }
  return new BerthError("internalError", `CNI ${command} of the ${type} plugin failed: ${message}`);
}

function checkResult(type: string, result: unknown): CniResult {
  const r = result as Partial<CniResult>;
  if (!r || typeof r !== "object" || typeof r.cniVersion !== "string") throw new BerthError("internalError", `the CNI plugin ${type} returned a result without cniVersion`);
  if (r.ips !== undefined && (!Array.isArray(r.ips) || !r.ips.every((ip) => typeof ip?.address === "string"))) throw new BerthError("internalError", `the CNI plugin ${type} returned malformed ips`);
  return r as CniResult;
}

/** ADD through every plugin of the list: the last plugin's result. A failure DELs what was added. */
export async function addList(list: ConfList, target: CniTarget): Promise<CniResult> {
  let result: CniResult | undefined;
  for (const plugin of list.plugins) {
    try {
      result = (await runPlugin("ADD", plugin.type, pluginInput(list, plugin, target, result), target)) ?? result;
    } catch (err) {
      await delList(list, target, result).catch(() => {}); // the spec's rule: undo a partial ADD with a DEL
      throw err;
    }
  }
  if (!result) throw new BerthError("internalError", `network ${list.name} has no plugins`);
  return result;
}

/** DEL through every plugin in reverse. Every plugin is asked even if one fails; the first failure is thrown. */
export async function delList(list: ConfList, target: CniTarget, prevResult: CniResult | undefined): Promise<void> {
  let first: unknown;
  for (const plugin of [...list.plugins].reverse()) {
    await runPlugin("DEL", plugin.type, pluginInput(list, plugin, target, prevResult), target).catch((err) => (first ??= err));
  }
  if (first) throw first;
}

/** CHECK: does the attachment still hold what ADD set up? Throws with the plugin's words if not. */
export async function checkList(list: ConfList, target: CniTarget, prevResult: CniResult): Promise<void> {
  for (const plugin of list.plugins) await runPlugin("CHECK", plugin.type, pluginInput(list, plugin, target, prevResult), target);
}
