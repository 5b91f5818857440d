// Lost tails. A hash chain cannot see its own missing end: a file restored from an older copy,
// or a WAL cut after a crash, is a shorter chain that verifies. Witnesses outside the file can:
// each exit the daemon journals leaves an ack file beside the exit record (src/vm/exits.ts)
// holding the position and chain hash of the event that acknowledged it. A witness that points
// past the head, or at a position that now holds another event, proves acknowledged events are
// gone. So does SQLite's AUTOINCREMENT sequence, when rows were deleted from the end.
import { BerthError } from "../model/errors.js";
import { DAEMON_STREAM, type JournalLoss } from "./catalogue.js";
import type { Journal } from "./journal.js";
import { LOSS_EVENT } from "./verify.js";

export interface Witness {
  /** The position of the event that acknowledged what the witness records. */
  position: number;
  /** The chain hash there, hex (absent in a witness that does not record it). */
  hash?: string;
  /** Where the witness lives (a file path), for messages. */
  source: string;
}

/** At most this many witnesses are named in a message or an event. */
const NAMED = 10;

/**
 * The loss the witnesses prove, or undefined. Witnesses inside a loss already accepted (a
 * JournalLossAccepted on the daemon stream) are accounted for.
 */
export function findJournalLoss(journal: Journal, witnesses: Witness[]): JournalLoss | undefined {
  const head = journal.head().position;
  const sequence = journal.sequence();
  const accepted = acceptedLosses(journal);
  const evidence: string[] = [];
  let from = Infinity;
  let to = 0;
  for (const w of [...witnesses].sort((a, b) => a.position - b.position)) {
    if (accepted.some((l) => w.position >= l.from && w.position <= l.to)) continue;
    let problem: string | undefined;
    if (w.position > head) problem = `${w.source} acknowledges position ${w.position}, past the journal's head ${head}`;
    else {
      const hash = journal.hashAt(w.position);
      if (!hash) problem = `${w.source} acknowledges position ${w.position}, which is not in the journal`;
      else if (w.hash !== undefined && hash.toString("hex") !== w.hash) problem = `${w.source} acknowledges position ${w.position}, which now holds another event`;
    }
    if (!problem) continue;
    evidence.push(problem);
    from = Math.min(from, w.position > head ? head + 1 : w.position);
    to = Math.max(to, w.position);
  }
  if (sequence > head && !accepted.some((l) => l.to >= sequence)) {
    evidence.push(`SQLite's sequence says positions up to ${sequence} were written, but the journal ends at ${head}`);
    from = Math.min(from, head + 1);
    to = Math.max(to, sequence);
  }
  if (evidence.length === 0) return undefined;
  const named = evidence.length > NAMED ? [...evidence.slice(0, NAMED), `and ${evidence.length - NAMED} more`] : evidence;
  return { from, to, head, evidence: named };
}

/** The losses journaled so far (they live on the daemon stream, which is short). */
function acceptedLosses(journal: Journal): JournalLoss[] {
  return journal.query({ streamId: DAEMON_STREAM, types: [LOSS_EVENT] }).map((e) => e.data as JournalLoss);
}

export function describeLoss(loss: JournalLoss): string {
  const range = loss.from === loss.to ? `position ${loss.from}` : `positions ${loss.from}..${loss.to}`;
  return `the journal lost acknowledged events: ${range} (the journal ends at ${loss.head}); ${loss.evidence.join("; ")}`;
}

/** Refusal to start over a journal that lost acknowledged events. */
export class JournalLossDetected extends BerthError {
  constructor(readonly loss: JournalLoss) {
    super("invalidState", `${describeLoss(loss)}. Restore the journal, or start with --accept-journal-loss to journal the loss and go on; new positions then start above ${Math.max(loss.to, loss.head)}`);
  }
}
