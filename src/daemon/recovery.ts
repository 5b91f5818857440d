// Recovery at daemon start (its order and guarantees: docs/recovery.md): the projection is already loaded (snapshot + tail);
// now reconcile it with reality, container by container, then resolve every intent that has
// no outcome, and journal one DaemonRecovered event with the counts.
import type { DriverName } from "../vm/driver.js";
import { stopLegacyService } from "./legacy-service.js";
import { containerStream, DAEMON_STREAM, type EventOf } from "../events/catalogue.js";
import { hasSandbox, initMayBeAliveIn } from "../model/lifecycle.js";
import type { ContainerState } from "../projections/container.js";
import type { Reactor } from "./reactor.js";
import { restartsWithDaemon } from "./restart.js";
import type { Runtimes } from "./runtimes.js";
import type { Store } from "./store.js";

export type RecoveryCounts = EventOf<"DaemonRecovered">["data"];


export async function recover(store: Store, runtimes: Runtimes, reactor: Reactor, options: { root: string; driver: DriverName }): Promise<RecoveryCounts> {
  const counts: RecoveryCounts = { adopted: 0, exitsRecovered: 0, lost: 0, intentsResolved: 0 };
  const containers = () => Object.values(store.projection.containers);
  const journalRecorded = async (id: string) => {
    const state = store.container(id);
    if (state) for (const exit of runtimes.recordedExits(state)) if (await runtimes.journalExit(id, exit)) counts.exitsRecovered += 1;
  };

  // Containers are independent: reconcile them concurrently (appends are synchronous, so the
  // journal still sees one whole event at a time), a bounded number at once.
  await eachConcurrently(containers().filter((c) => hasSandbox(c.status) && c.runtime), 16, async (state) => {
    const id = state.id;
    if (!state.runtime!.monitor) await stopLegacyService(options.root, state, runtimes);
    // What conmon recorded while the daemon was away, whether or not its conmon still runs.
    await journalRecorded(id);
    let now = store.container(id);
    if (!now || !initMayBeAliveIn(now.status)) return; // settled: a recovered exit completed the stop (and maybe its --rm)
    if (now.processes[id]?.status !== "exited" && (await runtimes.adopt(now))) {
      counts.adopted += 1;
      return;
    }
    // Nothing can follow this sandbox any more: end what still runs of it, then tell what is known.
    const leftover = await reactor.tearDownUnfollowed(now);
    await journalRecorded(id); // the exits of processes the teardown ended under live conmons
    now = store.container(id);
    if (!now || !initMayBeAliveIn(now.status)) return;
    if (tornDownByItsOwnIntent(now)) return;
    if (now.processes[id]?.status === "exited") {
      // Init's exit is known (journaled, now or before the crash): the stop is completed from
      // it, as the live path would (a pending stop intent finishes it below, with its causation).
      await reactor.completeStop(id);
      return;
    }
    const monitor = `${state.runtime!.monitor ?? "runtime service"} (pid ${state.runtime!.pid})`;
    const reason = `${monitor} is gone${leftover ? `; its orphaned sandbox (init pid ${leftover}) was killed` : ""}, and no exit of init was recorded`;
    store.record(id, [{ type: "ContainerLost", data: { reason, exitCode: 255 } }]);
    counts.lost += 1;
  });

  for (const state of containers()) {
    for (const intent of [...state.pending]) {
      // The journal, not the projection, holds an intent's data (a stop's signal, a bootstrap's
      // environment); this one was journaled by the daemon that died, so it is read back once.
      const event = store.journal.eventAt(intent.position);
      if (!event) continue;
      await reactor.effect(event);
      counts.intentsResolved += 1;
    }
  }

  for (const state of containers().filter(restartsWithDaemon)) await reactor.restart(state.id);
  await settleInterruptedRuns(store, reactor);

  store.appendRaw(DAEMON_STREAM, [{ type: "DaemonRecovered", data: counts }], "any");
  return counts;
}

/**
 * A stop or shutdown of a container whose init never started tears the sandbox down, and no
 * exit is recorded, as there was no process: a daemon killed before its outcome leaves the
 * monitor gone and nothing lost. The intent, performed again in step 4, completes it.
 */
function tornDownByItsOwnIntent(state: ContainerState): boolean {
  return state.processes[state.id]?.status === "created" && state.pending.some((p) => p.type === "StopRequested" || p.type === "ShutdownRequested");
}

async function eachConcurrently<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * No container is left holding a runtime service and a mounted rootfs with no process because
 * the `berth run` that booted it died with the daemon: such a sandbox is shut down (the
 * container stays, created, as docker's does). Then every `--rm` container that is not running
 * is removed, as docker's daemon does at start.
 */
async function settleInterruptedRuns(store: Store, reactor: Reactor): Promise<void> {
  for (const state of Object.values(store.projection.containers)) {
    if (state.status !== "booted" || state.pending.length > 0 || state.processes[state.id]?.status !== "created") continue;
    // History from the daemon that died: whether this boot was a `berth run`'s (the projection
    // does not keep it), and the event the shutdown names as its cause.
    const cause = store.journal.lastOfType(containerStream(state.id), "BootstrapRequested");
    if (cause?.data.run !== true) continue;
    const { events } = store.command({ type: "shutdown", id: state.id }, { actor: store.daemonActor, causationId: cause.eventId, correlationId: cause.correlationId ?? cause.eventId });
    for (const event of events) await reactor.effect(event);
  }
  for (const state of Object.values(store.projection.containers)) await reactor.autoRemove(state.id);
}
