// Given/when/then for the reactor, against a real daemon with the fake driver (src/vm/fake-driver.ts):
// given a journal history (seeded into the file before the daemon starts) or the steps that
// reach a live sandbox, when a command goes through the daemon, then these events are journaled,
// in this order, each with what caused it.
import { join } from "node:path";
import * as assert from "uvu/assert";
import type { ContainerConfigInput } from "../../src/model/config.js";
import { containerStream, describeOrphan, type ContainerEvent, type Orphan, type StoredEvent } from "../../src/events/catalogue.js";
import { Journal } from "../../src/events/journal.js";
import { journalEvents, tempRoot, waitFor, withDaemon, type DaemonFrame } from "./daemon.js";

export interface ReactorSpec {
  /** Per container, the history the journal holds before the daemon starts. */
  given?: Record<string, ContainerEvent[]>;
  /** Steps through the daemon that reach what a journal alone cannot (a live sandbox). */
  setup?: (d: DaemonFrame) => Promise<void>;
  when: (d: DaemonFrame) => Promise<unknown>;
  /** The events journaled after given and setup, rendered by `render`, in order. */
  then: string[];
  /** Event types left out of `then`, for an event that is not the reactor's business. */
  ignore?: StoredEvent["type"][];
  /** Further checks of the root once the events are in. */
  and?: (d: DaemonFrame, events: StoredEvent[]) => Promise<void> | void;
}

/**
 * One line per event: its type, what tells it apart (the signal, the process and exit code, the
 * error code, the attempt), and `← Cause`, the type of the event that caused it. A daemon event
 * is prefixed "daemon:"; container events are not (a spec drives one container).
 */
export function render(e: StoredEvent, all: StoredEvent[]): string {
  const d = e.data as Record<string, unknown>;
  const detail = ((): string => {
    switch (e.type) {
      case "SignalSent": return `${d.signal}`;
      case "ProcessStarted": return `${d.processId}`;
      case "ProcessExited": return `${d.processId} ${d.exitCode}`;
      case "BootstrapFailed":
      case "ProcessStartFailed": return `${(d.error as { code: string }).code}`;
      case "RestartScheduled": return `${d.attempt}`;
      case "DaemonRecovered": return JSON.stringify(d);
      case "OrphanFound": return describeOrphan(d.orphan as Orphan);
      default: return "";
    }
  })();
  const cause = e.causationId ? all.find((c) => c.eventId === e.causationId)?.type ?? "?" : undefined;
  return `${e.streamId === "daemon" ? "daemon: " : ""}${e.type}${detail ? ` ${detail}` : ""}${cause ? ` ← ${cause}` : ""}`;
}

/** A container's config for the fake driver (`args` is one of its scripted programs). */
export const fake = (args: string[], more: Omit<ContainerConfigInput, "init"> = {}): ContainerConfigInput => ({ init: { args }, ...more });

export function reactorSpec(spec: ReactorSpec): Promise<void> {
  return withDaemon(
    tempRoot(),
    async (d) => {
      if (spec.given) await seed(d.root, spec.given);
      await d.restart();
      await spec.setup?.(d);
      const mark = (await journalEvents(d.root)).at(-1)?.position ?? 0;
      await spec.when(d);
      const rendered = async () => {
        const all = await journalEvents(d.root);
        return { all, lines: all.filter((e) => e.position > mark && !spec.ignore?.includes(e.type)).map((e) => render(e, all)) };
      };
      // Effects after the reply (an exit, a restart timer) land later: wait for as many events as
      // the spec names, then a moment more, so one too many shows up too.
      await waitFor(`${spec.then.length} events`, async () => (await rendered()).lines.length >= spec.then.length, 30_000).catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
      const { all, lines } = await rendered();
      assert.equal(lines, spec.then);
      await spec.and?.(d, all);
    },
    { driver: "fake", start: false },
  );
}

async function seed(root: string, given: Record<string, ContainerEvent[]>): Promise<void> {
  const journal = await Journal.open(join(root, "journal.db"));
  try {
    for (const [id, events] of Object.entries(given)) journal.append(containerStream(id), events, "noStream", { actor: { uid: 0, gid: 0, pid: process.pid } });
  } finally {
    journal.close();
  }
}
