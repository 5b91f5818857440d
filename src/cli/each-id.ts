// The loop of the commands that take several container ids (stop, kill, rm, wait, pause, …).
import { toBerthError } from "../model/errors.js";
import { checkIds } from "./container-options.js";
import { EXIT, errorLine, type Session } from "./context.js";
import { out } from "./output.js";

/**
 * Applies one action per id, in order. A failure is reported and the rest still run, as with
 * docker; the command then exits 125.
 */
export async function eachId(ids: string[], action: (id: string) => Promise<void>, echo = true): Promise<number> {
  let code = 0;
  for (const id of ids) {
    try {
      await action(id);
      if (echo) out(id);
    } catch (err) {
      if (ids.length === 1) throw err;
      process.stderr.write(`${errorLine(toBerthError(err))}\n`);
      code = EXIT.failure;
    }
  }
  return code;
}

/** The verbs that take only container ids and call the route of the same name for each. */
export const eachContainer = (verb: "bootstrap" | "pause" | "unpause" | "shutdown") => async (session: Session, ids: string[]): Promise<number> => {
  checkIds(ids);
  return eachId(ids, async (id) => void (await (await session.client(id))[verb]()));
};
