// `berth kill`: signal containers' init processes.
import { checkIds, signalFlag } from "../container-options.js";
import type { Session } from "../context.js";
import { eachId } from "../each-id.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "kill",
  description: "send a signal to containers' init processes",
  examples: ["berth kill w", "berth kill -s HUP w", "berth kill -s 15 w"],
  flags: (cmd) => cmd
    .option("-s, --signal <signal>", "signal name or number", "SIGKILL")
    .argument("<id...>", "container ids"),
  action: (s, o, args) => kill(s, o as never, args),
};

export async function kill(session: Session, flags: { signal: string }, ids: string[]): Promise<number> {
  checkIds(ids);
  const signal = signalFlag(flags.signal);
  return eachId(ids, async (id) => {
    await (await session.client(id)).kill(id, signal);
  });
}
