// The versions of the programs berth drives, for `berth version` and `berth info`: the first
// line of `runc --version` and `conmon --version` carries it ("runc version 1.1.5",
// "conmon version 2.1.6"). A program that is missing or prints nothing shown is "unknown".
import { runCommand } from "./host.js";

export interface RuntimeVersions {
  runc: string;
  conmon: string;
}

export function parseVersion(output: string): string {
  return /version\s+v?([\w.+~-]+)/i.exec(output)?.[1] ?? "unknown";
}

async function versionOf(run: () => ReturnType<typeof runCommand>): Promise<string> {
  try {
    return parseVersion((await run()).stdout);
  } catch {
    return "unknown"; // not installed: the daemon cannot start containers, but `version` still answers
  }
}

export async function runtimeVersions(): Promise<RuntimeVersions> {
  const [runc, conmon] = await Promise.all([versionOf(() => runCommand("runc", ["--version"])), versionOf(() => runCommand("conmon", ["--version"]))]);
  return { runc, conmon };
}
