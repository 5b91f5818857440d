// `berth history`: one container's whole lifecycle as a timeline, deleted containers too.
import { containerIdOf, type StoredEvent } from "../../events/catalogue.js";
import { BerthError } from "../../model/errors.js";
import { readEvents, type EventsQuery } from "../read-events.js";
import { checkIds } from "../container-options.js";
import type { Session } from "../context.js";
import { actorText, historySentence } from "../describe.js";
import { iso, parseFormat } from "../format.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";
import { fleetFlags, readFleet, type FleetFlags } from "../fleet-journal.js";

export const command: LeafCommand = {
  kind: "command",
  name: "history",
  description: "one container's whole lifecycle as a timeline (deleted containers too)",
  format: true,
  examples: ["berth history w", "berth history --fleet nats://10.0.0.5:4222 --node web-1 w"],
  flags: (cmd) => fleetFlags(cmd, "with --fleet: the node the container ran on")
    .option("--fleet <urls>", "read the history from the fleet stream at nats://HOST:PORT[,...] (needs --node; see docs/fleet.md)")
    .argument("<id>", "container id"),
  action: (s, o, args) => history(s, o, args[0]!),
};

type Reader = (q: EventsQuery) => AsyncIterable<StoredEvent>;

function readerOf(session: Session, flags: { fleet?: string } & FleetFlags): Reader {
  if (!flags.fleet) return (q) => readEvents(session, q);
  if (!flags.node) throw new BerthError("invalidArgument", "history --fleet needs --node NAME: container ids are per node");
  return (q) => readFleet(flags.fleet!, flags, q);
}

/** One container's lifecycle, with any daemon recoveries that happened while it existed. */
export async function history(session: Session, flags: { format?: string; fleet?: string } & FleetFlags, id: string): Promise<number> {
  checkIds([id]);
  const read = readerOf(session, flags);
  const format = parseFormat(flags.format);
  const own: StoredEvent[] = [];
  for await (const e of read({ container: id })) own.push(e);
  if (own.length === 0) throw new BerthError("notFound", `no history for container ${id}: the journal has no events for it`);
  // A client's detach can follow the delete of its --rm container: the last event need not be it.
  const lifeEnds = own.filter((e) => e.type === "ContainerCreated" || e.type === "ContainerDeleted");
  const deletion = lifeEnds[lifeEnds.length - 1]?.type === "ContainerDeleted" ? lifeEnds[lifeEnds.length - 1] : undefined;
  const deleted = deletion !== undefined;
  // `id` may be the container's name (after a rename): its events name its processes by its id.
  const self = containerIdOf(own[0]!.streamId) ?? id;
  const recoveries: StoredEvent[] = [];
  const window: EventsQuery = { types: ["DaemonRecovered"], after: own[0]!.position };
  if (deletion) window.upTo = deletion.position;
  for await (const e of read(window)) recoveries.push(e);
  const timeline = [...own, ...recoveries].sort((a, b) => a.position - b.position);
  if (format === "json") {
    out(JSON.stringify(timeline.map((e) => ({ position: e.position, time: iso(e.time), type: e.type, actor: e.actor ?? null, text: historySentence(e, self), data: e.data })), null, 2));
    return 0;
  }
  out(`history of ${id}: ${own.length} events${deleted ? " (deleted)" : ""}`);
  const t0 = own[0]!.time;
  for (const e of timeline) {
    const offset = `+${((e.time - t0) / 1000).toFixed(3)}s`;
    out(`${iso(e.time)}  ${offset.padStart(10)}  #${String(e.position).padEnd(6)} ${actorText(e).padEnd(18)}  ${historySentence(e, self)}`);
  }
  return 0;
}
