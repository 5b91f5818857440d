// Audit commands over the journal: `events` (filtered, optionally followed live) and `history`
// (one container's lifecycle as a timeline, deleted containers included). Both read through the
// daemon's `events` route, which pages the backlog and then follows the head with no gap and
// no duplicate; without a daemon, the non-following forms read the journal file directly.
import { containerStream, EVENT_TYPES, type StoredEvent } from "../events/catalogue.js";
import { BerthError, toBerthError } from "../model/errors.js";
import { checkIds } from "./container-options.js";
import { journalPath } from "../host/root-layout.js";
import type { Session } from "./context.js";
import { actorText, eventLine, historySentence } from "./describe.js";
import { iso, parseBound, parseFormat } from "./format.js";
import { write } from "./output.js";

const out = (line: string) => process.stdout.write(`${line}\n`);

/** The daemon's `events` body. */
export interface EventsQuery {
  after?: number;
  upTo?: number;
  since?: number;
  until?: number;
  container?: string;
  types?: string[];
  actorUid?: number;
  follow?: boolean;
}

export interface EventsFlags {
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

/** Streams matching events; falls back to the journal file when no daemon serves the root. */
export async function* readEvents(session: Session, q: EventsQuery, onStream?: (cancel: () => void) => void): AsyncGenerator<StoredEvent> {
  let ipc;
  try {
    ipc = await session.ipc();
  } catch (err) {
    if (q.follow || toBerthError(err).code !== "notFound") throw err;
    yield* readJournalFile(session.root, q);
    return;
  }
  const stream = ipc.stream<StoredEvent>("events", q);
  onStream?.(() => stream.cancel());
  yield* stream;
}

async function* readJournalFile(root: string, q: EventsQuery): AsyncGenerator<StoredEvent> {
  const { Journal } = await import("../events/journal.js");
  const journal = await Journal.open(journalPath(root), { readonly: true });
  try {
    const filter = { ...q, limit: 1000, after: q.after ?? 0, ...(q.container ? { streamId: containerStream(q.container) } : {}) };
    for (;;) {
      const page = await journal.query(filter);
      yield* page;
      if (page.length < filter.limit) return;
      filter.after = page[page.length - 1]!.position;
    }
  } finally {
    journal.close();
  }
}

export async function events(session: Session, flags: EventsFlags): Promise<number> {
  const format = parseFormat(flags.format);
  const q = eventsQuery(flags);
  let cancel: (() => void) | undefined;
  const onSigint = () => cancel?.();
  process.once("SIGINT", onSigint);
  try {
    for await (const e of readEvents(session, q, (c) => (cancel = c))) {
      const sent = write(process.stdout, `${format === "json" ? JSON.stringify(e) : eventLine(e)}\n`);
      if (sent) await sent;
    }
  } finally {
    process.off("SIGINT", onSigint);
  }
  return 0;
}

/** One container's lifecycle, with any daemon recoveries that happened while it existed. */
export async function history(session: Session, flags: { format?: string }, id: string): Promise<number> {
  checkIds([id]);
  const format = parseFormat(flags.format);
  const own: StoredEvent[] = [];
  for await (const e of readEvents(session, { container: id })) own.push(e);
  if (own.length === 0) throw new BerthError("notFound", `no history for container ${id}: the journal has no events for it`);
  const deleted = own[own.length - 1]!.type === "ContainerDeleted";
  const recoveries: StoredEvent[] = [];
  const window: EventsQuery = { types: ["DaemonRecovered"], after: own[0]!.position };
  if (deleted) window.upTo = own[own.length - 1]!.position;
  for await (const e of readEvents(session, window)) recoveries.push(e);
  const timeline = [...own, ...recoveries].sort((a, b) => a.position - b.position);
  if (format === "json") {
    out(JSON.stringify(timeline.map((e) => ({ position: e.position, time: iso(e.time), type: e.type, actor: e.actor ?? null, text: historySentence(e, id), data: e.data })), null, 2));
    return 0;
  }
  out(`history of ${id}: ${own.length} events${deleted ? " (deleted)" : ""}`);
  const t0 = own[0]!.time;
  for (const e of timeline) {
    const offset = `+${((e.time - t0) / 1000).toFixed(3)}s`;
    out(`${iso(e.time)}  ${offset.padStart(10)}  #${String(e.position).padEnd(6)} ${actorText(e).padEnd(18)}  ${historySentence(e, id)}`);
  }
  return 0;
}
