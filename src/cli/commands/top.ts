// `berth top ID [ps options]`: the processes in a running container's cgroup, through the
// host's ps (default -ef), as docker top.
import { BerthError } from "../../model/errors.js";
import type { ContainerState } from "../../projections/container.js";
import { containerTop } from "../../vm/top.js";
import type { Session } from "../context.js";
import { out } from "../output.js";
import { tabwrite } from "../template.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "top",
  description: "the processes running in a container (the host's ps, default -ef)",
  examples: ["berth top w", "berth top w -o pid,comm", "berth top w aux"],
  flags: (cmd) => cmd
    .argument("<id>", "container id")
    .argument("[ps-options...]", "options for ps (default -ef); the output must keep the PID column")
    .allowUnknownOption()
    .passThroughOptions(),
  action: (s, _o, args) => top(s, args[0]!, args.slice(1)),
};

export async function top(session: Session, id: string, psArgs: string[]): Promise<number> {
  const state = await (await session.client(id)).state<ContainerState>();
  if (state.status !== "running" && state.status !== "paused") {
    throw new BerthError("invalidState", `cannot list processes: container ${id} is ${state.status}, expected running or paused`);
  }
  const { titles, processes } = await containerTop(session.root, id, psArgs);
  for (const line of tabwrite([titles, ...processes].map((r) => r.join("\t")))) out(line);
  return 0;
}
