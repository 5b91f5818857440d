// `berth start`: start created, booted or stopped containers, optionally attached.
import { BerthError } from "../../model/errors.js";
import { attach } from "../attach.js";
import { checkIds } from "../container-options.js";
import type { Session } from "../context.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "start",
  description: "start created or stopped containers",
  examples: ["berth start w", "berth start -a w"],
  flags: (cmd) => cmd
    .option("-a, --attach", "stream the output and exit with the container's exit code")
    .argument("<id...>", "container ids"),
  action: (s, o, args) => start(s, o, args),
};

/**
 * Starts a created container (bootstrap, then init), a booted one (init), or a stopped one
 * again (shutdown, bootstrap, init), as docker's start does: the daemon's `start` route
 * (src/daemon/start-operation.ts). A running one is refused by the daemon's decider, so
 * nothing is journaled.
 */
export async function start(session: Session, flags: { attach?: boolean }, ids: string[]): Promise<number> {
  checkIds(ids);
  if (flags.attach && ids.length !== 1) throw new BerthError("invalidArgument", "start -a takes exactly one container");
  for (const id of ids) {
    const client = await session.client(id);
    const since = Date.now();
    await client.start(); // one request: the daemon runs shutdown, bootstrap and start as needed
    if (flags.attach) return (await attach(client, id, { since })).exitCode;
    out(id);
  }
  return 0;
}
