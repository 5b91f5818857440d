// `berth events`: journaled events, one per line, filtered; -f follows live.
import { EVENT_TYPES } from "../../events/catalogue.js";
import { BerthError } from "../../model/errors.js";
import { readEvents, type EventsQuery } from "../read-events.js";
import { checkIds } from "../container-options.js";
import { collect } from "./command.js";
import type { Session } from "../context.js";
import { eventLine } from "../describe.js";
import { parseBound, parseFormat } from "../format.js";
import { write } from "../output.js";
import type { LeafCommand } from "./command.js";
import { fleetFlags, readFleet, type FleetFlags } from "../fleet-journal.js";

export const command: LeafCommand = {
  kind: "command",
  name: "events",
  description: "print journaled events, one per line; -f follows live",
  format: true,
  examples: ["berth events --since 10m", "berth events --since @100 --until @200", "berth events -f --filter container=w --filter type=ProcessExited", "berth events --filter actor=0", "berth events --fleet nats://10.0.0.5:4222 --filter container=w"],
  flags: (cmd) => fleetFlags(cmd, "with --fleet: only this node's events (default: every node's)")
    .option("--fleet <urls>", "read every node's events from the fleet stream at nats://HOST:PORT[,...] instead of this root's journal; each line starts with its node (see docs/fleet.md)")
    .option("--since <time|@pos>", "from RFC 3339 time, Unix seconds, a duration ago (10m), or @POSITION (inclusive)")
    .option("--until <time|@pos>", "up to that time or @POSITION (inclusive)")
    .option("--filter <key=value>", "container=ID, type=TYPE or actor=UID (repeatable; types add up)", collect, [])
    .option("-f, --follow", "keep printing new events"),
  action: (s, o) => events(s, o as never),
};

export interface EventsFlags extends FleetFlags {
  fleet?: string;
  since?: string;
  until?: string;
  filter: string[];
  follow?: boolean;
  format?: string;
}

export function eventsQuery(flags: EventsFlags, now = Date.now()): EventsQuery {
  const q: EventsQuery = {};
  if (flags.since !== undefined) {
    const b = parseBound(flags.since, now);
    if ("position" in b) q.after = Math.max(0, b.position - 1);
    else q.since = b.time;
  }
  if (flags.until !== undefined) {
    const b = parseBound(flags.until, now);
    if ("position" in b) q.upTo = b.position;
    else q.until = b.time;
  }
  for (const f of flags.filter) {
    const eq = f.indexOf("=");
    const key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    if (eq <= 0 || value === "") throw new BerthError("invalidArgument", `invalid --filter "${f}": expected container=ID, type=TYPE or actor=UID`);
    if (key === "container") {
      checkIds([value]);
      if (q.container !== undefined && q.container !== value) throw new BerthError("invalidArgument", "only one container filter is supported");
      q.container = value;
    } else if (key === "type") {
      if (!(EVENT_TYPES as string[]).includes(value)) throw new BerthError("invalidArgument", `unknown event type "${value}": expected one of ${EVENT_TYPES.join(", ")}`);
      q.types = [...(q.types ?? []), value];
    } else if (key === "actor") {
      if (!/^\d+$/.test(value)) throw new BerthError("invalidArgument", `invalid actor "${value}": expected a numeric uid`);
      q.actorUid = Number(value);
    } else throw new BerthError("invalidArgument", `unknown filter "${key}": expected container, type or actor`);
  }
  if (flags.follow) q.follow = true;
  return q;
}

export async function events(session: Session, flags: EventsFlags): Promise<number> {
  const format = parseFormat(flags.format);
  const q = eventsQuery(flags);
  let cancel: (() => void) | undefined;
  const onSigint = () => cancel?.();
  process.once("SIGINT", onSigint);
  try {
    const source = flags.fleet ? readFleet(flags.fleet, flags, q, (c) => (cancel = c)) : readEvents(session, q, (c) => (cancel = c));
    for await (const e of source) {
      const line = format === "json" ? JSON.stringify(e) : "node" in e ? `${e.node}  ${eventLine(e)}` : eventLine(e);
      const sent = write(process.stdout, `${line}\n`);
      if (sent) await sent;
    }
  } finally {
    process.off("SIGINT", onSigint);
  }
  return 0;
}
