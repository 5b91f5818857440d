// At start, before anything is folded or appended: do the witnesses outside the journal (the
// exit ack files) prove that acknowledged events are gone? Then the daemon refuses to start,
// unless told to accept the loss: it then journals it, above every position a witness saw, so
// no position is handed out twice (src/events/witness.ts, docs/journal.md "Lost tails").
import { DAEMON_STREAM, type Actor, type JournalLoss } from "../events/catalogue.js";
import type { Journal } from "../events/journal.js";
import { findJournalLoss, JournalLossDetected, type Witness } from "../events/witness.js";
import { readExitAcks } from "../vm/exits.js";

/** The witnesses under a root: every exit ack file. */
export function rootWitnesses(root: string): Witness[] {
  return readExitAcks(root).map((a) => ({ position: a.position, hash: typeof a.hash === "string" ? a.hash : undefined, source: a.file }));
}

/** Throws JournalLossDetected, or (accept) journals the loss; returns the loss accepted, if any. */
export function checkJournalLoss(journal: Journal, root: string, accept: boolean, actor: Actor): JournalLoss | undefined {
  const loss = findJournalLoss(journal, rootWitnesses(root));
  if (!loss) return undefined;
  if (!accept) throw new JournalLossDetected(loss);
  // Appended before the projection is folded, so the daemon folds it like any other event.
  journal.append(DAEMON_STREAM, [{ type: "JournalLossAccepted", data: loss }], "any", { actor }, { above: Math.max(loss.to, loss.head) });
  return loss;
}
