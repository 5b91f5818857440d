// Who is the runtime service of a container? `runtime.json` names its pid and that pid's start
// time (field 22 of /proc/<pid>/stat). A pid alone can be reused by an unrelated process after
// a reboot or a long uptime; pid and start time together cannot.
import fs from "node:fs";
import type { DriverName } from "./driver.js";
import { containerPaths } from "./paths.js";

export interface RuntimeEndpoint {
  pid: number;
  /** Clock ticks since boot, from /proc/<pid>/stat field 22. */
  startTime: number;
  socket: string;
  driver: DriverName;
}

export function readStartTime(pid: number): number | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    // No such process (or no /proc): it has no start time, so it is not the one recorded.
    return null;
  }
  // comm (field 2) is in parentheses and may itself contain spaces or ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const v = fields[22 - 3];
  return v === undefined ? null : Number(v);
}

export function readRuntimeEndpoint(root: string, id: string): RuntimeEndpoint | null {
  try {
    return JSON.parse(fs.readFileSync(containerPaths(root, id).runtimeJson, "utf8")) as RuntimeEndpoint;
  } catch {
    // No runtime.json, or a torn one: no endpoint is recorded.
    return null;
  }
}

export type RuntimeProbe = { alive: true; endpoint: RuntimeEndpoint } | { alive: false; endpoint: RuntimeEndpoint | null };

/** Alive means: the recorded pid exists, started at the recorded time, and is not a zombie. */
export function probeRuntime(root: string, id: string): RuntimeProbe {
  const endpoint = readRuntimeEndpoint(root, id);
  if (!endpoint) return { alive: false, endpoint: null };
  const start = readStartTime(endpoint.pid);
  if (start === null || start !== endpoint.startTime) return { alive: false, endpoint };
  try {
    const stat = fs.readFileSync(`/proc/${endpoint.pid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return { alive: false, endpoint };
  } catch {
    // It exited between the two reads.
    return { alive: false, endpoint };
  }
  return { alive: true, endpoint };
}

