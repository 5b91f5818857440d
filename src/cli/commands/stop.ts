// `berth stop`: the stop signal, then SIGKILL after the timeout.
import { BerthError } from "../../model/errors.js";
import { checkIds, signalFlag } from "../container-options.js";
import type { Session } from "../context.js";
import { eachId } from "../each-id.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "stop",
  description: "stop containers: the stop signal, then SIGKILL after the timeout",
  examples: ["berth stop w", "berth stop -t 1 w", "berth stop -s SIGINT -t 5 w"],
  flags: (cmd) => cmd
    .option("-t, --time <seconds>", "seconds to wait before SIGKILL (default: the container's stop timeout)")
    .option("-s, --signal <signal>", "signal to send first, name or number (default: the container's stop signal)")
    .argument("<id...>", "container ids"),
  action: (s, o, args) => stop(s, o, args),
};

export async function stop(session: Session, flags: { time?: string; signal?: string }, ids: string[]): Promise<number> {
  checkIds(ids);
  const signal = flags.signal !== undefined ? signalFlag(flags.signal) : undefined;
  const timeout = flags.time !== undefined ? Number(flags.time) : undefined;
  if (timeout !== undefined && !(timeout >= 0)) throw new BerthError("invalidArgument", `invalid -t "${flags.time}": expected seconds >= 0`);
  return eachId(ids, async (id) => {
    const opts: { signal?: string; timeoutInSeconds?: number } = {};
    if (signal !== undefined) opts.signal = signal;
    if (timeout !== undefined) opts.timeoutInSeconds = timeout;
    await (await session.client(id)).stop(opts);
  });
}
