// `berth rm`: delete containers; their history stays in the journal.
import { checkIds } from "../container-options.js";
import type { Session } from "../context.js";
import { eachId } from "../each-id.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "rm",
  description: "remove containers (their history stays in the journal)",
  examples: ["berth rm w", "berth rm -f w"],
  flags: (cmd) => cmd
    .option("-f, --force", "stop a running container with SIGKILL first")
    .argument("<id...>", "container ids"),
  action: (s, o, args) => rm(s, o, args),
};

export async function rm(session: Session, flags: { force?: boolean }, ids: string[]): Promise<number> {
  checkIds(ids);
  return eachId(ids, async (id) => {
    await (await session.client(id)).delete({ force: flags.force === true });
  });
}
