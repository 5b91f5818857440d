// evolve and the journal's transition rules, specified: every container event after the history
// that reaches each status, legal (and the status it leaves) or refused by the audit.
import { test } from "uvu";
import { STATUSES } from "../src/model/lifecycle.js";
import { evolveSpec } from "./helpers/lifecycle-specs.js";

for (const status of STATUSES) test(`evolve: every event in status ${status}`, () => evolveSpec(status));

test.run();
