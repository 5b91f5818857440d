// `berth version`: the CLI's version and the daemon's (they may differ after an upgrade),
// with the runtimes the daemon drives, in docker version's shape. Without a daemon it prints
// the client part and fails (125), as docker prints its client part and fails.
import type { DaemonInfo } from "../../daemon/system-routes.js";
import { berthVersion } from "../../host/package-info.js";
import { toBerthError } from "../../model/errors.js";
import { errorLine, type Session } from "../context.js";
import { out } from "../output.js";
import { render } from "../template.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "version",
  description: "the versions of the berth CLI, the daemon, runc and conmon",
  format: "template",
  examples: ["berth version", "berth version --format '{{.Server.Version}}'", "berth version --format json"],
  action: (s, o) => version(s, o),
};

const client = () => ({ Version: berthVersion(), NodeVersion: process.version, Os: process.platform, Arch: process.arch });

export function versionView(i: DaemonInfo | undefined) {
  const server = i && { Version: i.version, Pid: i.pid, Root: i.root, Driver: i.driver, Runc: i.runtimes.runc, Conmon: i.runtimes.conmon };
  return { Client: client(), Server: server ?? null };
}

export function versionLines(v: ReturnType<typeof versionView>): string[] {
  const lines = ["Client:", ` Version:       ${v.Client.Version}`, ` Node version:  ${v.Client.NodeVersion}`, ` OS/Arch:       ${v.Client.Os}/${v.Client.Arch}`];
  if (!v.Server) return lines;
  const s = v.Server;
  return [...lines, "", "Server: berth", " Engine:", `  Version:      ${s.Version}`, `  Pid:          ${s.Pid}`, `  Root:         ${s.Root}`, `  Driver:       ${s.Driver}`, " runc:", `  Version:      ${s.Runc}`, " conmon:", `  Version:      ${s.Conmon}`];
}

export async function version(session: Session, flags: { format?: string }): Promise<number> {
  let i: DaemonInfo | undefined;
  let failure: string | undefined;
  try {
    i = await (await session.ipc()).call<DaemonInfo>("info", {});
  } catch (err) {
    failure = errorLine(toBerthError(err));
  }
  const v = versionView(i);
  const format = flags.format ?? "table";
  if (format === "json") out(JSON.stringify(v, null, 2));
  else if (format === "table") for (const l of versionLines(v)) out(l);
  else for (const l of render(format, [v], {}, "types.VersionResponse")) out(l);
  if (failure === undefined) return 0;
  process.stderr.write(`${failure}\n`);
  return 125;
}
