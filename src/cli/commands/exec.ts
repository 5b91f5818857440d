// `berth exec`: run a process in a running container.
import { randomBytes } from "node:crypto";
import { BerthError, toBerthError } from "../../model/errors.js";
import type { ContainerState } from "../../projections/container.js";
import { attach } from "../attach.js";
import { checkIds, processEnv, processFlags, stdioFlags, stdioSpec } from "../container-options.js";
import { errorLine, exitCodeForError, type Session } from "../context.js";
import { attachStdio, refuseWithoutTerminal } from "../interactive.js";
import { out } from "../output.js";
import { DEFAULT_DETACH_KEYS, detachKeys } from "../terminal.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "exec",
  description: "run a command in a running container; exits with its code",
  examples: ["berth exec -it w sh", "berth exec -i w sh -c 'cat > /f' < file", "berth exec w sh -c 'exit 5'", "berth exec -e A=1 -w /tmp w env", "berth exec -d w sleep 10"],
  flags: (cmd) => stdioFlags(processFlags(cmd))
    .option("-d, --detach", "run in the background and print the process id")
    .option("--detach-keys <keys>", `keys that detach from a -t process, leaving it running (default: the docker config's detachKeys, else ${DEFAULT_DETACH_KEYS})`)
    .argument("<id>", "container id")
    .argument("<command...>", "command and arguments")
    .passThroughOptions(),
  action: (s, o, args) => exec(s, o as never, args[0]!, args.slice(1)),
};

export interface ExecFlags {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  detachKeys?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
}

/** Runs a process in a running container; attached, exits with the process's code. */
export async function exec(session: Session, flags: ExecFlags, id: string, args: string[]): Promise<number> {
  checkIds([id]);
  if (args.length === 0) throw new BerthError("invalidArgument", "exec needs a command: berth exec ID CMD [ARG...]");
  const attached = !flags.detach && (flags.interactive === true || flags.tty === true);
  const refused = attached && flags.tty ? refuseWithoutTerminal() : undefined;
  if (refused !== undefined) return refused;
  const keys = detachKeys(flags.detachKeys);
  const client = await session.client(id);
  const processId = `exec-${randomBytes(4).toString("hex")}`;
  const spec: { args: string[]; env: Record<string, string>; cwd?: string; user?: string } = { args, env: processEnv(flags), ...stdioSpec(flags, !flags.detach) };
  // exec inherits the container's environment (PATH above all), as docker exec does.
  const state = await client.state<ContainerState>();
  // Without a log (--log-driver none) the output reaches only a client attached to the process.
  const noLog = state.config.log?.driver === "none";
  spec.env = { ...state.config.init.env, ...spec.env };
  spec.cwd = flags.workdir ?? state.config.init.cwd;
  if (flags.user !== undefined) spec.user = flags.user;
  else if (state.config.init.user !== undefined) spec.user = state.config.init.user;
  await client.createProcess(processId, spec);
  try {
    if (attached || (noLog && !flags.detach)) {
      // Attached before the start, so none of its output precedes the attach.
      const end = await attachStdio(client, processId, { stdin: flags.interactive === true, detachKeys: keys }, () => client.startProcess(processId));
      return end === "detached" ? 0 : (await client.wait(processId)).exitCode;
    }
    await client.startProcess(processId);
  } catch (err) {
    const e = toBerthError(err);
    process.stderr.write(`${errorLine(e)}\n`);
    return exitCodeForError(e);
  }
  if (flags.detach) {
    out(processId);
    return 0;
  }
  return (await attach(client, processId)).exitCode;
}
