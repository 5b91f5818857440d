// `berth start`: start created, booted or stopped containers, optionally attached.
import type { RuntimeClient } from "../../ipc/runtime-client.js";
import type { ContainerConfig } from "../../model/config.js";
import { BerthError } from "../../model/errors.js";
import type { ContainerState } from "../../projections/container.js";
import { attach } from "../attach.js";
import { checkIds } from "../container-options.js";
import type { Session } from "../context.js";
import { out } from "../output.js";
import { attachStdio, requireTerminal } from "../interactive.js";
import { DEFAULT_DETACH_KEYS, detachKeys } from "../terminal.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "start",
  description: "start created or stopped containers",
  examples: ["berth start w", "berth start -a w", "berth create -it --name s busybox sh && berth start -ai s"],
  flags: (cmd) => cmd
    .option("-a, --attach", "stream the output and exit with the container's exit code")
    .option("-i, --interactive", "with -a: attach the CLI's stdin too (a container created with -i or -t)")
    .option("--detach-keys <keys>", `keys that detach from a -t container, leaving it running (default: the docker config's detachKeys, else ${DEFAULT_DETACH_KEYS})`)
    .argument("<id...>", "container ids"),
  action: (s, o, args) => start(s, o, args),
};

/**
 * Starts a created container (bootstrap, then init), a booted one (init), or a stopped one
 * again (shutdown, bootstrap, init), as docker's start does: the daemon's `start` route
 * (src/daemon/start-operation.ts). A running one is refused by the daemon's decider, so
 * nothing is journaled.
 */
export async function start(session: Session, flags: { attach?: boolean; interactive?: boolean; detachKeys?: string }, ids: string[]): Promise<number> {
  checkIds(ids);
  if (flags.attach && ids.length !== 1) throw new BerthError("invalidArgument", "start -a takes exactly one container");
  for (const id of ids) {
    const client = await session.client(id);
    // Only `start -a` asks first: a plain start stays one request.
    const config = flags.attach ? (await client.state<ContainerState>()).config : undefined;
    if (config && (config.init.terminal || config.init.stdin !== undefined || config.log?.driver === "none")) return startAttached(client, config, flags);
    const since = Date.now();
    await client.start(); // one request: the daemon runs shutdown, bootstrap and start as needed
    if (flags.attach) return (await attach(client, id, { since })).exitCode;
    out(id);
  }
  return 0;
}

/**
 * `start -a` of a container created with -i or -t (or without a log): as `run -i`, the sandbox is
 * booted first and init starts only once the CLI is attached, so none of its output is missed.
 */
async function startAttached(client: RuntimeClient, config: ContainerConfig, flags: { interactive?: boolean; detachKeys?: string }): Promise<number> {
  const stdin = flags.interactive === true && config.init.stdin !== undefined;
  if (config.init.terminal && stdin) requireTerminal();
  const keys = detachKeys(flags.detachKeys);
  const state = await client.state<ContainerState>();
  if (state.status === "stopped") await client.shutdown();
  if (state.status === "stopped" || state.status === "created") await client.bootstrap();
  const end = await attachStdio(client, client.id, { stdin, detachKeys: keys }, () => client.startProcess(client.id));
  return end === "detached" ? 0 : (await client.wait(client.id)).exitCode;
}
