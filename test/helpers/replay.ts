// The journal-replay helper: load an exported journal file into a fresh temporary journal,
// then ask for the projection at any position. No effect ever runs: this is a pure fold.
import { journalPath } from "../../src/host/root-layout.js";
import { importJournal } from "../../src/events/archive.js";
import { Journal } from "../../src/events/journal.js";
import { stateAt, type Projection } from "../../src/projections/index.js";
import { tempDir } from "./tmp.js";

export interface Replay {
  journal: Journal;
  head: number;
  at(position: number): Projection;
  close(): void;
}

export async function loadJournal(file: string): Promise<Replay> {
  const dir = tempDir("berth-replay-");
  const journal = await Journal.open(journalPath(dir.path));
  try {
    importJournal(journal, file);
  } catch (err) {
    journal.close();
    dir.remove();
    throw err;
  }
  return {
    journal,
    head: journal.head().position,
    at: (position) => stateAt(journal, position),
    close() {
      journal.close();
      dir.remove();
    },
  };
}
