// decide, specified: every command in every status of the lifecycle (src/model/lifecycle.ts),
// as pure given/when/then. No SQLite: model-state-machine.test.ts proves the file side.
import { test } from "uvu";
import { STATUSES } from "../src/model/lifecycle.js";
import { decideSpec } from "./helpers/lifecycle-specs.js";

for (const status of STATUSES) test(`decide: every command in status ${status}`, () => decideSpec(status));

test.run();
