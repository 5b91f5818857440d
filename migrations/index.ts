// Every migration, in order. A static list keeps migrations working from tsx and from dist/.
import type { Migration } from "kysely";
import * as m001 from "./001_journal.js";

export const migrations: Record<string, Migration> = {
  "001_journal": m001,
};
