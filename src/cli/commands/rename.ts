// `berth rename OLD NEW`: a journaled ContainerRenamed. The container keeps its id (its
// history, runc's and conmon's ids stay); from then on NEW names it everywhere an id does.
import type { Session } from "../context.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "rename",
  description: "rename a container (journaled; its id and history stay; the new name must be free)",
  examples: ["berth rename web api", "berth history api"],
  flags: (cmd) => cmd.argument("<container>", "the container's id or current name").argument("<new-name>", "its new name"),
  action: (s, _o, args) => rename(s, args[0]!, args[1]!),
};

/** Prints nothing and exits 0, as docker's rename. */
export async function rename(session: Session, ref: string, name: string): Promise<number> {
  await (await session.client(ref)).rename(name);
  return 0;
}
