// Reading the journal for the audit commands, `events` and `history` (commands/): both read
// through the daemon's `events` route, which pages the backlog and then follows the head with
// no gap and no duplicate; without a daemon, the non-following forms read the journal file directly.
import { containerStream, type StoredEvent } from "../events/catalogue.js";
import { toBerthError } from "../model/errors.js";
import { journalPath } from "../host/root-layout.js";
import type { Session } from "./context.js";

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
