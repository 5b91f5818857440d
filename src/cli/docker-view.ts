// What `--format` templates see: berth's projected state under docker's field names, so a
// template written for docker (`{{.State.ExitCode}}`, `{{.Name}}`, `{{index .Config.Labels "k"}}`,
// `{{.Names}}\t{{.Status}}`) works unchanged. Pure functions of ContainerState and a clock value.
import { networkSettings, portBindings, portsColumn } from "./network-view.js";
import type { ContainerState } from "../projections/container.js";
import { humanBytes, iso, shellQuote, truncate } from "./format.js";

/** docker's container states: created, running, paused, restarting, removing, exited, dead. */
export function dockerState(s: ContainerState): string {
  switch (s.status) {
    case "created": case "booting": case "booted": return "created";
    case "running": case "stopping": return "running";
    case "paused": return "paused";
    case "stopped": case "shuttingDown": return "exited";
    case "deleted": return "removing";
  }
}

/** "3 seconds", "About a minute", "2 hours": docker's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 1) return "Less than a second";
  if (s === 1) return "1 second";
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m === 1) return "About a minute";
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return "About an hour";
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
}

/** docker's STATUS column: "Up 5 minutes", "Up 2 seconds (Paused)", "Exited (3) 1 minute ago", "Created". */
export function dockerStatus(s: ContainerState, now: number): string {
  switch (dockerState(s)) {
    case "running": return `Up ${humanDuration(now - (s.startedAt ?? now))}`;
    case "paused": return `Up ${humanDuration(now - (s.startedAt ?? now))} (Paused)`;
    case "exited": return `Exited (${s.exitCode ?? 255}) ${humanDuration(now - (s.finishedAt ?? now))} ago`;
    case "removing": return "Removal In Progress";
    default: return "Created";
  }
}

/** Labels print as docker's ps prints them, "k=v,k2=v2", and still index as a map. */
class LabelMap {
  constructor(labels: Record<string, string>) {
    Object.assign(this, labels);
  }
  toString(): string {
    return Object.entries(this).map(([k, v]) => `${k}=${v}`).join(",");
  }
}

export const imageOf = (s: ContainerState): string => ("image" in s.config.rootfs ? s.config.rootfs.image : s.config.rootfs.path);

/** docker's formatter.ContainerContext: the fields `ps --format` knows. */
export interface PsView {
  ID: string;
  Names: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Ports: string;
  State: string;
  Status: string;
  Size: string;
  Labels: Record<string, string>;
  Mounts: string;
  Networks: string;
  LocalVolumes: string;
}

/** `size` is the writable layer's bytes, when -s asked for it; `full` keeps COMMAND whole (--no-trunc). */
export function psView(s: ContainerState, now: number, size?: number, full = false): PsView {
  return {
    ID: s.id,
    Names: s.name ?? s.id, // a berth container is called by its id until a rename
    Image: imageOf(s),
    Command: `"${full ? shellQuote(s.config.init.args) : truncate(shellQuote(s.config.init.args), 20)}"`,
    CreatedAt: new Date(s.createdAt).toISOString().replace("T", " ").replace(/\.\d+Z$/, " +0000 UTC"),
    RunningFor: `${humanDuration(now - s.createdAt)} ago`,
    Ports: portsColumn(s),
    State: dockerState(s),
    Status: dockerStatus(s, now),
    Size: size === undefined ? "" : humanBytes(size),
    Labels: new LabelMap(s.config.labels) as unknown as Record<string, string>,
    Mounts: s.config.mounts.map((m) => m.source).join(","),
    Networks: s.config.network,
    LocalVolumes: "0",
  };
}

/** docker ps's column names, for `table` templates. */
export const PS_HEADERS: Record<string, string> = {
  ID: "CONTAINER ID", Names: "NAMES", Image: "IMAGE", Command: "COMMAND", CreatedAt: "CREATED AT", RunningFor: "CREATED",
  Ports: "PORTS", State: "STATE", Status: "STATUS", Size: "SIZE", Labels: "LABELS", Mounts: "MOUNTS", Networks: "NETWORKS", LocalVolumes: "LOCAL VOLUMES",
};

/** docker ps's default table, and with -s. */
export const PS_TABLE = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
export const PS_TABLE_SIZE = `${PS_TABLE}\t{{.Size}}`;

const ZERO_TIME = "0001-01-01T00:00:00Z";

/** docker inspect's container JSON, as far as berth has the facts: what `inspect -f` templates see. */
export function dockerInspect(s: ContainerState) {
  const init = s.processes[s.id];
  const state = dockerState(s);
  return {
    Id: s.id,
    Created: iso(s.createdAt),
    Path: s.config.init.args[0] ?? "",
    Args: s.config.init.args.slice(1),
    State: {
      Status: state,
      Running: state === "running" || state === "paused",
      Paused: state === "paused",
      Restarting: false,
      OOMKilled: s.oomKilled ?? false,
      Dead: false,
      Pid: state === "running" || state === "paused" ? s.pid ?? 0 : 0,
      ExitCode: s.exitCode ?? 0,
      Error: s.lastError?.message ?? "",
      StartedAt: iso(s.startedAt) ?? ZERO_TIME,
      FinishedAt: iso(s.finishedAt) ?? ZERO_TIME,
    },
    Image: imageOf(s),
    Name: `/${s.name ?? s.id}`,
    RestartCount: s.restartCount,
    Driver: "overlay",
    HostConfig: {
      NetworkMode: s.config.network,
      PortBindings: portBindings(s),
      RestartPolicy: { Name: s.config.restart.name, MaximumRetryCount: "maxRetries" in s.config.restart ? s.config.restart.maxRetries : 0 },
      AutoRemove: s.config.autoRemove,
      ReadonlyRootfs: s.config.readOnlyRootfs,
      Memory: s.config.resources.memoryBytes ?? 0,
      NanoCpus: Math.round((s.config.resources.cpus ?? 0) * 1e9),
      PidsLimit: s.config.resources.pids ?? 0,
    },
    NetworkSettings: networkSettings(s),
    Mounts: s.config.mounts.map((m) => ({ Type: "bind", Source: m.source, Destination: m.destination, RW: !m.readOnly })),
    Config: {
      Hostname: s.config.hostname,
      User: s.config.init.user ?? "",
      Env: Object.entries(s.config.init.env).map(([k, v]) => `${k}=${v}`),
      Cmd: s.config.init.args,
      Image: imageOf(s),
      WorkingDir: s.config.init.cwd,
      Labels: s.config.labels,
      StopSignal: s.config.stopSignal,
      StopTimeout: s.config.stopTimeoutSeconds,
    },
    Processes: Object.values(s.processes).filter((p) => p !== init).map((p) => ({ ID: p.id, Args: p.spec.args, Pid: p.pid ?? 0, ExitCode: p.exitCode ?? 0, Status: p.status })),
  };
}
