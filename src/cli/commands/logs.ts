// `berth logs`: a container's output, optionally followed.
import { BerthError } from "../../model/errors.js";
import { entryText, type LogEntry } from "../../vm/logs.js";
import { checkIds } from "../container-options.js";
import type { Session } from "../context.js";
import { parseTime } from "../format.js";
import { write } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "logs",
  description: "print a container's output",
  examples: ["berth logs w", "berth logs -f --tail 10 w", "berth logs --since 10m -t --stderr w"],
  flags: (cmd) => cmd
    .option("-f, --follow", "keep printing new output until init exits")
    .option("--since <time>", "only output since RFC 3339 time, Unix seconds, or a duration ago (10m)")
    .option("--until <time>", "only output until that time")
    .option("-n, --tail <n>", "only the last n lines (or all)")
    .option("-t, --timestamps", "prefix each line with its RFC 3339 time")
    .option("--stdout", "only stdout")
    .option("--stderr", "only stderr")
    .argument("<id>", "container id"),
  action: (s, o, args) => logs(s, o, args[0]!),
};

export interface LogsFlags {
  follow?: boolean;
  since?: string;
  until?: string;
  tail?: string;
  timestamps?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export async function logs(session: Session, flags: LogsFlags, id: string): Promise<number> {
  checkIds([id]);
  if (flags.stdout && flags.stderr) throw new BerthError("invalidArgument", "--stdout and --stderr exclude each other; give neither for both streams");
  const query: { follow?: boolean; since?: number; tail?: number; stdout?: boolean; stderr?: boolean } = {};
  if (flags.follow) query.follow = true;
  if (flags.since !== undefined) query.since = parseTime(flags.since);
  const until = flags.until !== undefined ? parseTime(flags.until) : undefined;
  if (flags.tail !== undefined && flags.tail !== "all") {
    if (!/^\d+$/.test(flags.tail)) throw new BerthError("invalidArgument", `invalid --tail "${flags.tail}": expected a number of lines or "all"`);
    query.tail = Number(flags.tail);
  }
  if (flags.stdout) query.stderr = false;
  if (flags.stderr) query.stdout = false;
  const client = await session.client(id);
  const stream = client.logs<LogEntry>(query);
  process.once("SIGINT", () => stream.cancel());
  // A partial entry continues on the stream's next one: one timestamp per line, not per entry.
  const midLine = { stdout: false, stderr: false };
  for await (const e of stream) {
    if (until !== undefined && e.t > until) {
      if (flags.follow) break;
      continue;
    }
    // conmon's own nanosecond time, in UTC with a Z as docker prints it.
    const stamp = flags.timestamps && !midLine[e.s] ? `${e.ts.replace(/\+00:00$/, "Z")} ` : "";
    midLine[e.s] = e.partial === true;
    const sent = write(e.s === "stdout" ? process.stdout : process.stderr, stamp + entryText(e));
    if (sent) await sent;
  }
  return 0;
}
