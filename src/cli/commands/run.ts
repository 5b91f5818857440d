// `berth run`: create, bootstrap and start a container, attached or detached.
import type { RuntimeClient } from "../../ipc/runtime-client.js";
import { toBerthError } from "../../model/errors.js";
import type { ExitStatus } from "../../model/exit.js";
import { attachRun } from "../attach.js";
import { containerConfig, containerFlags, type ContainerFlags } from "../container-options.js";
import { errorLine, exitCodeForError, type Session } from "../context.js";
import { attachStdio, refuseWithoutTerminal } from "../interactive.js";
import { out } from "../output.js";
import { DEFAULT_DETACH_KEYS, detachKeys } from "../terminal.js";
import type { LeafCommand } from "./command.js";
import { pullForRun } from "../pull-for-run.js";

export const command: LeafCommand = {
  kind: "command",
  name: "run",
  description: "create, bootstrap and start a container; attached, exit with its exit code",
  examples: ["berth run -it --rm busybox sh", "echo hi | berth run -i --rm busybox cat", "berth run --rm busybox sh -c 'echo out; echo err >&2; exit 3'", "berth run -d --name w busybox sleep 1000", "berth run --rm -e GREETING=hi -m 64m --cpus 0.5 busybox env", "berth run --rm --rootfs /srv/rootfs /bin/true"],
  flags: (cmd) => containerFlags(cmd)
    .option("--rm", "the daemon removes the container once it stops (also with -d)")
    .option("-d, --detach", "run in the background and print the id")
    .option("--detach-keys <keys>", `keys that detach from a -t container, leaving it running (default: the docker config's detachKeys, else ${DEFAULT_DETACH_KEYS})`)
    .argument("[image]", "image name (busybox is built in), or the command when --rootfs is given")
    .argument("[command...]", "command and arguments (default: sh)")
    .passThroughOptions(),
  action: (s, o, args) => run(s, o as never, args),
};

export interface RunFlags extends ContainerFlags {
  rm?: boolean;
  detach?: boolean;
  detachKeys?: string;
}

/**
 * create + bootstrap + start, in one request; attached, it prints the output and exits with the
 * container's exit code. `--rm` is the container's own config (autoRemove): the daemon deletes
 * it when it stops, even if this CLI is gone by then; attached, the daemon sends the exit only
 * once that delete has committed.
 */
export async function run(session: Session, flags: RunFlags, rest: string[]): Promise<number> {
  const interactive = !flags.detach && (flags.interactive === true || flags.tty === true);
  const refused = interactive && flags.tty ? refuseWithoutTerminal() : undefined;
  if (refused !== undefined) return refused;
  const { id, config } = containerConfig(flags, rest, { attached: !flags.detach });
  if ("image" in config.rootfs!) await pullForRun(session, config.rootfs.image, flags.pull);
  if (flags.rm) config.autoRemove = true;
  const keys = detachKeys(flags.detachKeys);
  const client = await session.client(id);
  try {
    if (interactive) return (await runAttached(client, config, keys)) ?? 0;
    const stream = client.run(config, flags.detach ? { detach: true } : {});
    if (flags.detach) {
      for await (const _ of stream); // `started`, then the end
      out(id);
      return 0;
    }
    const withoutLog = () => attachStdio(client, id, { stdin: false, detachKeys: keys }, () => client.start());
    return (await attachRun(client, stream, withoutLog)).exitCode;
  } catch (err) {
    // One line, whatever failed: the create, the boot, or the start (runc's complaint, once).
    const e = toBerthError(err);
    process.stderr.write(`${errorLine(e)}\n`);
    return exitCodeForError(e);
  }
}

/**
 * `run -i` / `-t`: the daemon creates and boots the container, this CLI attaches to init's
 * stdio and then starts it, so nothing init prints comes before the attach. The exit comes on
 * the run stream (after an --rm delete). Undefined when the user detached.
 */
async function runAttached(client: RuntimeClient, config: Parameters<RuntimeClient["run"]>[0], keys: number[]): Promise<number | undefined> {
  const stream = client.run(config, { attach: true });
  let session: Promise<unknown> | undefined;
  let exit: ExitStatus | undefined;
  for await (const item of stream) {
    if (item.type === "booted") {
      session = attachStdio(client, client.id, { stdin: config.init.stdin !== undefined, detachKeys: keys }, () => client.start()).then((end) => {
        if (end === "detached") stream.cancel();
      });
      // A failed attach or start ends the run: its error is the CLI's.
      session.catch(() => stream.cancel());
    } else if (item.type === "exit") exit = item.exit;
  }
  await session;
  return exit?.exitCode;
}
