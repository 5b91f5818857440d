// `berth run`: create, bootstrap and start a container, attached or detached.
import { toBerthError } from "../../model/errors.js";
import { attachRun } from "../attach.js";
import { containerConfig, containerFlags, type ContainerFlags } from "../container-options.js";
import { errorLine, exitCodeForError, type Session } from "../context.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";
import { pullForRun } from "../pull-image.js";

export const command: LeafCommand = {
  kind: "command",
  name: "run",
  description: "create, bootstrap and start a container; attached, exit with its exit code",
  examples: ["berth run --rm busybox sh -c 'echo out; echo err >&2; exit 3'", "berth run -d --name w busybox sleep 1000", "berth run --rm -e GREETING=hi -m 64m --cpus 0.5 busybox env", "berth run --rm --rootfs /srv/rootfs /bin/true"],
  flags: (cmd) => containerFlags(cmd)
    .option("--rm", "the daemon removes the container once it stops (also with -d)")
    .option("-d, --detach", "run in the background and print the id")
    .option("-i, --interactive", "keep stdin open (accepted; stdin is not forwarded yet)")
    .argument("[image]", "image name (busybox is built in), or the command when --rootfs is given")
    .argument("[command...]", "command and arguments (default: sh)")
    .passThroughOptions(),
  action: (s, o, args) => run(s, o as never, args),
};

export interface RunFlags extends ContainerFlags {
  rm?: boolean;
  detach?: boolean;
  interactive?: boolean;
}

/**
 * create + bootstrap + start, in one request; attached, it prints the output and exits with the
 * container's exit code. `--rm` is the container's own config (autoRemove): the daemon deletes
 * it when it stops, even if this CLI is gone by then; attached, the daemon sends the exit only
 * once that delete has committed.
 */
export async function run(session: Session, flags: RunFlags, rest: string[]): Promise<number> {
  const { id, config } = containerConfig(flags, rest);
  if ("image" in config.rootfs!) await pullForRun(session, config.rootfs.image, flags.pull);
  if (flags.rm) config.autoRemove = true;
  const client = await session.client(id);
  try {
    const stream = client.run(config, flags.detach ? { detach: true } : {});
    if (flags.detach) {
      for await (const _ of stream); // `started`, then the end
      out(id);
      return 0;
    }
    return (await attachRun(client, stream)).exitCode;
  } catch (err) {
    // One line, whatever failed: the create, the boot, or the start (runc's complaint, once).
    const e = toBerthError(err);
    process.stderr.write(`${errorLine(e)}\n`);
    return exitCodeForError(e);
  }
}
