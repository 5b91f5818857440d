// Recovery at daemon start (its order and guarantees: docs/recovery.md): the projection is already loaded (snapshot + tail);
// now reconcile it with reality, container by container, then resolve every intent that has
// no outcome, and journal one DaemonRecovered event with the counts.
import { createDriver } from "../vm/drivers.js";
import type { DriverName } from "../vm/driver.js";
import { probeRuntime, readExitRecords } from "../vm/runtime.js";
import { containerStream, DAEMON_STREAM, type EventOf, type StoredEvent } from "../events/catalogue.js";
import { HAS_SANDBOX, type ContainerState } from "../projections/container.js";
import type { Reactor } from "./reactor.js";
import { restartsWithDaemon } from "./restart.js";
import type { Runtimes } from "./runtimes.js";
import type { Store } from "./store.js";

export type RecoveryCounts = EventOf<"DaemonRecovered">["data"];


export async function recover(store: Store, runtimes: Runtimes, reactor: Reactor, options: { root: string; driver: DriverName }): Promise<RecoveryCounts> {
  const counts: RecoveryCounts = { adopted: 0, exitsRecovered: 0, lost: 0, intentsResolved: 0 };
  const containers = () => Object.values(store.projection.containers);

  // Containers are independent: reconcile them concurrently (appends are synchronous, so the
  // journal still sees one whole event at a time), a bounded number at once.
  await eachConcurrently(containers().filter((c) => HAS_SANDBOX.includes(c.status) && c.runtime), 16, async (state) => {
    const probe = probeRuntime(options.root, state.id);
    const same = probe.alive && probe.endpoint.pid === state.runtime!.pid && probe.endpoint.startTime === state.runtime!.startTime;
    if (same) {
      counts.adopted += 1;
      const client = await runtimes.client(state.id);
      for await (const record of client.exits(false)) if (await runtimes.journalExit(state.id, record)) counts.exitsRecovered += 1;
      await runtimes.watch(state.id);
      return;
    }
    for (const record of readExitRecords(options.root, state.id)) if (await runtimes.journalExit(state.id, record)) counts.exitsRecovered += 1;
    const now = store.container(state.id)!;
    if (!["booted", "running", "paused", "stopping"].includes(now.status)) return;
    const leftover = await removeOrphanSandbox(options, now);
    const reason = probe.endpoint
      ? `runtime service pid ${probe.endpoint.pid} is gone${leftover ? `; its orphaned sandbox (init pid ${leftover}) was killed` : ""}, and no exit of init was recorded`
      : "the runtime service's identity file is missing and no exit of init was recorded";
    store.record(state.id, [{ type: "ContainerLost", data: { reason, exitCode: 255 } }]);
    counts.lost += 1;
  });

  for (const state of containers()) {
    for (const intent of [...state.pending]) {
      const event = findEvent(store, state, intent.position);
      if (!event) continue;
      await reactor.effect(event);
      counts.intentsResolved += 1;
    }
  }

  for (const state of containers().filter(restartsWithDaemon)) await reactor.restart(state.id);

  store.appendRaw(DAEMON_STREAM, [{ type: "DaemonRecovered", data: counts }], "any");
  return counts;
}

async function eachConcurrently<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function findEvent(store: Store, state: ContainerState, position: number): StoredEvent | undefined {
  return store.journal.readStream(containerStream(state.id)).find((e) => e.position === position);
}

/** A sandbox whose runtime service died cannot be adopted: nobody can see its exits. Kill it. */
async function removeOrphanSandbox(options: { root: string; driver: DriverName }, state: ContainerState): Promise<number | undefined> {
  try {
    const driver = await createDriver((state.runtime?.driver as DriverName | undefined) ?? options.driver, { root: options.root, id: state.id, config: state.config });
    const probe = await driver.probe();
    // Even with no sandbox left, teardown releases what the dead service held (its rootfs mount).
    await driver.teardown();
    return probe.status === "absent" ? undefined : probe.initPid;
  } catch {
    return undefined;
  }
}
