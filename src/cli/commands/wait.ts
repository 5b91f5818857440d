// `berth wait`: block until containers stop; print their exit codes.
import { checkIds } from "../container-options.js";
import type { Session } from "../context.js";
import { eachId } from "../each-id.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "wait",
  description: "wait for containers to stop and print their exit codes",
  examples: ["berth wait w"],
  flags: (cmd) => cmd.argument("<id...>", "container ids"),
  action: (s, _o, args) => wait(s, args),
};

/** Prints each container's exit code; exits with the last one, as docker wait does. */
export async function wait(session: Session, ids: string[]): Promise<number> {
  checkIds(ids);
  let last = 0;
  const failed = await eachId(ids, async (id) => {
    const exit = await (await session.client(id)).wait(id);
    out(String(exit.exitCode));
    last = exit.exitCode;
  }, false);
  return failed || last;
}
