// `berth restart`: docker's restart, a stop and then a start, each through its own journaled
// command (stop: StopRequested → ContainerStopped; start: shutdown, bootstrap, start), so the
// journal reads as if the user had typed `berth stop` and `berth start`. A stopped or created
// container is only started, as in docker.
import { BerthError } from "../../model/errors.js";
import { checkIds, signalFlag } from "../container-options.js";
import type { Session } from "../context.js";
import { eachId } from "../each-id.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "restart",
  description: "restart containers: stop (the stop signal, SIGKILL after the timeout), then start",
  examples: ["berth restart w", "berth restart -t 1 w v", "berth restart -s SIGINT -t 5 w"],
  flags: (cmd) => cmd
    .option("-t, --time <seconds>", "seconds to wait for the stop before SIGKILL (default: the container's stop timeout)")
    .option("-s, --signal <signal>", "signal to stop with, name or number (default: the container's stop signal)")
    .argument("<id...>", "container ids"),
  action: (s, o, args) => restart(s, o, args),
};

export async function restart(session: Session, flags: { time?: string; signal?: string }, ids: string[]): Promise<number> {
  checkIds(ids);
  const signal = flags.signal !== undefined ? signalFlag(flags.signal) : undefined;
  const timeout = flags.time !== undefined ? Number(flags.time) : undefined;
  if (timeout !== undefined && !(timeout >= 0)) throw new BerthError("invalidArgument", `invalid -t "${flags.time}": expected seconds >= 0`);
  return eachId(ids, async (id) => {
    const client = await session.client(id);
    const opts: { signal?: string; timeoutInSeconds?: number } = {};
    if (signal !== undefined) opts.signal = signal;
    if (timeout !== undefined) opts.timeoutInSeconds = timeout;
    await client.stop(opts); // a no-op, journaling nothing, when it is already stopped or created
    await client.start();
  });
}
