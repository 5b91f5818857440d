// Issue 5 acceptance 4 and issue 11's acceptance: lifecycle storms from concurrent clients
// (runs with and without --rm, exec traffic with known exit codes), kill -9 of the daemon at a
// random moment (also between an intent and its outcome, or an exit and its stop), restart, and
// check the invariants: nothing stopped or deleted that still has processes, no ContainerLost
// for a known exit, every acknowledged command in the journal with its outcome, a chain that
// verifies. BERTH_CHAOS_CYCLES (default 50) and BERTH_CHAOS_SEED choose how much and which storms.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { containerIdOf, type StoredEvent } from "../src/events/catalogue.js";
import { Journal } from "../src/events/journal.js";
import { checkInvariants, storm, type Ack } from "./helpers/chaos.js";
import { random } from "./helpers/random.js";
import { tempRoot, withDaemon, type DaemonProcess } from "./helpers/daemon.js";

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

/** ContainerStopped journaled by another daemon process than init's ProcessExited: the crash fell between them. */
function stopsAfterCrash(events: Awaited<ReturnType<typeof readJournal>>["events"]): number {
  const lastExit = new Map<string, number | undefined>();
  let n = 0;
  for (const e of events) {
    if (e.type === "ProcessExited" && (e.data as { processId: string }).processId === containerIdOf(e.streamId)) lastExit.set(e.streamId, e.actor?.pid);
    if (e.type === "ContainerStopped" && lastExit.has(e.streamId) && lastExit.get(e.streamId) !== e.actor?.pid) n += 1;
    if (e.type === "ContainerStopped") lastExit.delete(e.streamId);
  }
  return n;
}

/** Resolves `seen` when the daemon journals the exit of some container's init after `after`. */
function initExited(daemon: DaemonProcess, after: number): { seen: Promise<void>; cancel: () => void } {
  let stream: { cancel(): void } | undefined;
  const seen = (async () => {
    const ipc = await daemon.ipc();
    const events = ipc.stream<StoredEvent>("events", { types: ["ProcessExited"], after, follow: true });
    stream = events;
    for await (const e of events) if ((e.data as { processId: string }).processId === containerIdOf(e.streamId)) return;
    await new Promise(() => {}); // the stream ended (the daemon was killed): never seen
  })().catch(() => new Promise<void>(() => {}));
  return { seen, cancel: () => stream?.cancel() };
}

test(`${cycles} cycles of storms and kill -9 leave a journal that matches reality`, () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    const rng = random(seed);
    let lastEvents: Awaited<ReturnType<typeof readJournal>>["events"] = [];
    // Everything the clients were told, over all cycles: an acknowledged command never goes away.
    const acks: Ack[] = [];
    const sum = (xs: Record<string, number>[], key: string) => xs.reduce((n, x) => n + (x[key] ?? 0), 0);
    for (let cycle = 0; cycle < cycles; cycle++) {
      const log: string[] = [];
      const cycleStart = Date.now();
      const current = daemon.daemon; // the clients of this cycle keep talking to the daemon it kills
      const clients = Array.from({ length: 3 }, () => storm((id) => current.client(id), ids, rng, 4 + rng.int(8), log, acks));
      // Kill at a random moment of the storm: often while an effect is between intent and outcome.
      // Every other cycle the kill follows the journaling of an init's exit as closely as an
      // event stream can tell it, so it falls between that ProcessExited and its ContainerStopped.
      const delay = new Promise((r) => setTimeout(r, rng.int(cycle % 2 ? 4000 : 2000)));
      const exit = cycle % 2 ? initExited(current, lastEvents.at(-1)?.position ?? 0) : undefined;
      await Promise.race([delay, exit?.seen].filter(Boolean));
      exit?.cancel();
      await daemon.kill9();
      await Promise.all(clients);
      await daemon.restart();
      const { events, verified } = await readJournal(root);
      const problems = await checkInvariants(root, events, verified, acks);
      if (process.env.BERTH_CHAOS_VERBOSE) console.log(`cycle ${cycle}: ${Date.now() - cycleStart} ms, ${events.length} events`);
      assert.equal(problems, [], `cycle ${cycle} (seed ${seed}): ${problems.join("; ")}\nstorm: ${log.join(", ")}`);
      lastEvents = events;
    }
    // The storms must have exercised the machine, and the kills must have hit work in flight.
    const types = new Set(lastEvents.map((e) => e.type));
    for (const type of ["ContainerBooted", "ProcessStarted", "ProcessExited", "SignalSent", "ContainerStopped", "ContainerDeleted", "DaemonRecovered"]) {
      assert.ok(types.has(type as never), `the storms produced ${type}`);
    }
    const waits = acks.filter((a) => a.route === "wait").length;
    const autoRemoved = lastEvents.filter((e) => e.type === "ContainerDeleted" && e.causationId).length;
    assert.ok(waits > 0 && autoRemoved > 0, `the storms waited for execs (${waits}) and auto-removed containers (${autoRemoved})`);
    const execExits = lastEvents.filter((e) => e.type === "ProcessExited" && /-e\d$/.test((e.data as { processId: string }).processId)).length;
    console.log(`chaos (seed ${seed}): ${acks.length} acknowledged calls (${waits} exec waits, ${execExits} exec exits), ${autoRemoved} auto-removes, ${stopsAfterCrash(lastEvents)} stops completed after a crash, ${lastEvents.filter((e) => e.type === "ContainerLost").length} ContainerLost`);
    const recoveries = lastEvents.filter((e) => e.type === "DaemonRecovered").map((e) => e.data as { adopted: number; intentsResolved: number; exitsRecovered: number });
    assert.is(recoveries.length, cycles + 1);
    console.log(`chaos: ${lastEvents.length} events; recoveries adopted ${sum(recoveries, "adopted")}, resolved ${sum(recoveries, "intentsResolved")} intents, recovered ${sum(recoveries, "exitsRecovered")} exits`);
    if (cycles >= 20) assert.ok(sum(recoveries, "adopted") > 0 && sum(recoveries, "intentsResolved") > 0, "some kills landed between an intent and its outcome");
    if (cycles >= 20) assert.ok(stopsAfterCrash(lastEvents) > 0, "some kills landed between an init's ProcessExited and its ContainerStopped");
  }));

test.run();
