// `berth inspect`: containers' projected state as JSON.
import { toBerthError } from "../../model/errors.js";
import type { ContainerState } from "../../projections/container.js";
import { checkIds } from "../container-options.js";
import { EXIT, errorLine, type Session } from "../context.js";
import { inspectOf } from "../inspect.js";
import { warnIfStale } from "../journal-fault.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "inspect",
  description: "print containers' state as JSON",
  examples: ["berth inspect w"],
  flags: (cmd) => cmd.argument("<id...>", "container ids"),
  action: (s, _o, args) => inspect(s, args),
};

export async function inspect(session: Session, ids: string[]): Promise<number> {
  checkIds(ids);
  const found = [];
  let code = 0;
  for (const id of ids) {
    try {
      const state = await (await session.client(id)).state<ContainerState>();
      warnIfStale([state]);
      found.push(inspectOf(state));
    } catch (err) {
      process.stderr.write(`${errorLine(toBerthError(err))}\n`);
      code = EXIT.failure;
    }
  }
  out(JSON.stringify(found, null, 2));
  return code;
}
