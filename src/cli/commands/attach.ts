// `berth attach`: take the main process's stdio again, as docker's and podman's attach do. A
// container created with -i or -t is attached through conmon's attach socket (its terminal, with
// -t); any other is followed through its logs from now on. Never an exec session's.
import type { ContainerState } from "../../projections/container.js";
import { attach as followOutput } from "../attach.js";
import { checkIds } from "../container-options.js";
import type { Session } from "../context.js";
import { attachStdio, requireTerminal } from "../interactive.js";
import { DEFAULT_DETACH_KEYS, detachKeys } from "../terminal.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "attach",
  description: "attach to a running container's main process (its terminal, with -t); exits with its code",
  examples: ["berth run -dit --name c busybox sh", "berth attach c", "berth attach --no-stdin c"],
  flags: (cmd) => cmd
    .option("--no-stdin", "do not forward the CLI's stdin")
    .option("--sig-proxy <bool>", "without a terminal, forward SIGINT and SIGTERM to the process (true or false)", "true")
    .option("--detach-keys <keys>", `keys that detach, leaving the container running (default: the docker config's detachKeys, else ${DEFAULT_DETACH_KEYS})`)
    .argument("<id>", "container id"),
  action: (s, o, args) => attachCommand(s, o as never, args[0]!),
};

interface AttachFlags {
  stdin: boolean;
  sigProxy: string;
  detachKeys?: string;
}

export async function attachCommand(session: Session, flags: AttachFlags, id: string): Promise<number> {
  checkIds([id]);
  const keys = detachKeys(flags.detachKeys);
  const client = await session.client(id);
  const { config } = await client.state<ContainerState>();
  const init = config.init;
  // A container with a log is followed through it; one without (--log-driver none) through conmon's socket.
  if (!init.terminal && init.stdin === undefined && config.log?.driver !== "none") return (await followOutput(client, id, { since: Date.now() })).exitCode;
  if (init.terminal && flags.stdin) requireTerminal();
  const end = await attachStdio(client, id, { stdin: flags.stdin, detachKeys: keys, sigProxy: flags.sigProxy !== "false" });
  return end === "detached" ? 0 : (await client.wait(id)).exitCode;
}
