// `berth create`: journal a container without starting it.
import { containerConfig, containerFlags, type ContainerFlags } from "../container-options.js";
import type { Session } from "../context.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";
import { pullForRun } from "../pull-for-run.js";

export const command: LeafCommand = {
  kind: "command",
  name: "create",
  description: "create a container without starting it; prints the id",
  examples: ["berth create --name w busybox sleep 1000", "berth start w"],
  flags: (cmd) => containerFlags(cmd)
    .argument("[image]", "image name, or the command when --rootfs is given")
    .argument("[command...]", "command and arguments (default: sh)")
    .passThroughOptions(),
  action: (s, o, args) => create(s, o as never, args),
};

export async function create(session: Session, flags: ContainerFlags, rest: string[]): Promise<number> {
  const { id, config } = containerConfig(flags, rest);
  if ("image" in config.rootfs!) await pullForRun(session, config.rootfs.image, flags.pull);
  await (await session.client(id)).createContainer(config);
  out(id);
  return 0;
}
