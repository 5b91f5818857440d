// `berth run`: create, bootstrap and start a container, attached or detached.
import type { ExitStatus, RuntimeClient } from "../../ipc/runtime-client.js";
import { toBerthError } from "../../model/errors.js";
import type { ContainerState } from "../../projections/container.js";
import { attach } from "../attach.js";
import { containerConfig, containerFlags, type ContainerFlags } from "../container-options.js";
import { errorLine, exitCodeForError, type Session } from "../context.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

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
 * create + bootstrap + start; attached, it exits with the container's exit code. `--rm` is the
 * container's own config (autoRemove): the daemon deletes it when it stops, even if this CLI is
 * gone by then; attached, the CLI exits only once that delete has committed.
 */
export async function run(session: Session, flags: RunFlags, rest: string[]): Promise<number> {
  const { id, config } = containerConfig(flags, rest);
  if (flags.rm) config.autoRemove = true;
  const client = await session.client(id);
  const created = await client.createContainer(config) as ContainerState;
  let exit: ExitStatus;
  try {
    await client.bootstrap({ run: true });
    if (flags.detach) {
      await client.startProcess(id);
      out(id);
      return 0;
    }
    exit = await attach(client, id, { start: () => client.startProcess(id) });
  } catch (err) {
    // Report here: the daemon removes an --rm container that could not boot or start itself.
    const e = toBerthError(err);
    process.stderr.write(`${errorLine(e)}\n`);
    if (flags.rm) await removed(client, id, created.position, true);
    return exitCodeForError(e);
  }
  if (flags.rm) await removed(client, id, created.position, false);
  return exit.exitCode;
}

/**
 * Waits until the daemon has journaled the container's ContainerDeleted (after `after`, its
 * creation). With `fallback` (a start that failed, where the daemon may not have stopped it),
 * the CLI deletes it itself when the daemon has not.
 */
async function removed(client: RuntimeClient, id: string, after: number, fallback: boolean): Promise<void> {
  try {
    if (fallback) {
      const state = await client.state().catch(() => undefined); // no state: the wait below reports the container as it finds it
      if (state && state.status !== "deleted") await client.delete({ force: true }).catch((err) => {
        if (toBerthError(err).code !== "notFound") throw err;
      });
      return;
    }
    const stream = client.ipc.stream<{ type: string }>("events", { container: id, types: ["ContainerDeleted"], after, follow: true });
    for await (const event of stream) if (event.type === "ContainerDeleted") return stream.cancel();
  } catch (err) {
    process.stderr.write(`berth: cannot confirm the removal of ${id}: ${toBerthError(err).message}\n`);
  }
}
