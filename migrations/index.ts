// Every migration, in order. A static list keeps migrations working from tsx and from dist/.
import type { Migration } from "kysely";
import * as m001 from "./001_journal.js";
import * as m002 from "./002_command_event_ids.js";
import * as m003 from "./003_snapshot_witness.js";
import * as m004 from "./004_node_identity.js";

export const migrations: Record<string, Migration> = {
  "001_journal": m001,
  "002_command_event_ids": m002,
  "003_snapshot_witness": m003,
  "004_node_identity": m004,
};
