// Issue 5 acceptance 4: lifecycle storms from concurrent clients, kill -9 of the daemon at a
// random moment (also between an intent and its outcome), restart, and check the invariants.
// BERTH_CHAOS_CYCLES (default 50) and BERTH_CHAOS_SEED choose how much and which storms.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Journal } from "../src/events/journal.js";
import { checkInvariants, storm } from "./helpers/chaos.js";
import { random } from "./helpers/random.js";
import { cleanupDaemon, startDaemon, tempRoot, type DaemonProcess } from "./helpers/daemon.js";

const cycles = Number(process.env.BERTH_CHAOS_CYCLES ?? 50);
const seed = Number(process.env.BERTH_CHAOS_SEED ?? 1128);
const ids = ["c0", "c1", "c2", "c3"] as const;

async function readJournal(root: string) {
  const journal = await Journal.open(join(root, "journal.db"), { readonly: true });
  try {
    return { events: [...journal.readAll()], verified: journal.verify() };
  } finally {
    journal.close();
  }
}

test(`${cycles} cycles of storms and kill -9 leave a journal that matches reality`, async () => {
  const root = tempRoot();
  const rng = random(seed);
  let daemon: DaemonProcess | undefined;
  let lastEvents: Awaited<ReturnType<typeof readJournal>>["events"] = [];
  const sum = (xs: Record<string, number>[], key: string) => xs.reduce((n, x) => n + (x[key] ?? 0), 0);
  try {
    daemon = await startDaemon(root);
    for (let cycle = 0; cycle < cycles; cycle++) {
      const log: string[] = [];
      const current = daemon;
      const clients = Array.from({ length: 3 }, () => storm((id) => current.client(id), ids, rng, 4 + rng.int(8), log));
      // Kill at a random moment of the storm: often while an effect is between intent and outcome.
      await new Promise((r) => setTimeout(r, rng.int(2000)));
      await daemon.kill9();
      await Promise.all(clients);
      daemon = await startDaemon(root);
      const { events, verified } = await readJournal(root);
      const problems = checkInvariants(root, events, verified);
      assert.equal(problems, [], `cycle ${cycle} (seed ${seed}): ${problems.join("; ")}\nstorm: ${log.join(", ")}`);
      lastEvents = events;
    }
    // The storms must have exercised the machine, and the kills must have hit work in flight.
    const types = new Set(lastEvents.map((e) => e.type));
    for (const type of ["ContainerBooted", "ProcessStarted", "ProcessExited", "SignalSent", "ContainerStopped", "ContainerDeleted", "DaemonRecovered"]) {
      assert.ok(types.has(type as never), `the storms produced ${type}`);
    }
    const recoveries = lastEvents.filter((e) => e.type === "DaemonRecovered").map((e) => e.data as { adopted: number; intentsResolved: number; exitsRecovered: number });
    assert.is(recoveries.length, cycles + 1);
    console.log(`chaos: ${lastEvents.length} events; recoveries adopted ${sum(recoveries, "adopted")}, resolved ${sum(recoveries, "intentsResolved")} intents, recovered ${sum(recoveries, "exitsRecovered")} exits`);
    if (cycles >= 20) assert.ok(sum(recoveries, "adopted") > 0 && sum(recoveries, "intentsResolved") > 0, "some kills landed between an intent and its outcome");
  } finally {
    await cleanupDaemon(daemon, root);
  }
});

test.run();
