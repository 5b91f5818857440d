// Recovery at daemon start (design.md §2): the projection is already loaded (snapshot + tail);
// now reconcile it with reality, container by container, then resolve every intent that has
// no outcome, and journal one DaemonRecovered event with the counts.
import { createDriver } from "../vm/drivers.js";
import type { DriverName } from "../vm/driver.js";
import { probeRuntime, readExitRecords } from "../vm/runtime.js";
import { DAEMON_STREAM, type EventOf, type StoredEvent } from "../events/catalogue.js";
import type { ContainerState } from "../projections/container.js";
import type { Reactor } from "./reactor.js";
import { restartsWithDaemon } from "./restart.js";
import type { Runtimes } from "./runtimes.js";
import type { Store } from "./store.js";

export type RecoveryCounts = EventOf<"DaemonRecovered">["data"];

const WITH_RUNTIME = ["booted", "running", "stopping", "shuttingDown"];

export async function recover(store: Store, runtimes: Runtimes, reactor: Reactor, options: { root: string; driver: DriverName }): Promise<RecoveryCounts> {
  const counts: RecoveryCounts = { adopted: 0, exitsRecovered: 0, lost: 0, intentsResolved: 0 };
  const containers = () => Object.values(store.projection.containers);

  for (const state of containers().filter((c) => WITH_RUNTIME.includes(c.status) && c.runtime)) {
    const probe = probeRuntime(options.root, state.id);
    const same = probe.alive && probe.endpoint.pid === state.runtime!.pid && probe.endpoint.startTime === state.runtime!.startTime;
    if (same) {
      counts.adopted += 1;
      const client = await runtimes.client(state.id);
      for await (const record of client.exits(false)) if (await runtimes.journalExit(state.id, record)) counts.exitsRecovered += 1;
      await runtimes.watch(state.id);
      continue;
    }
    for (const record of readExitRecords(options.root, state.id)) if (await runtimes.journalExit(state.id, record)) counts.exitsRecovered += 1;
    const now = store.container(state.id)!;
    if (!["booted", "running", "stopping"].includes(now.status)) continue;
    const leftover = await removeOrphanSandbox(options, now);
    const reason = probe.endpoint
      ? `runtime service pid ${probe.endpoint.pid} is gone${leftover ? `; its orphaned sandbox (init pid ${leftover}) was killed` : ""}, and no exit of init was recorded`
      : "the runtime service's identity file is missing and no exit of init was recorded";
    store.record(state.id, [{ type: "ContainerLost", data: { reason, exitCode: 255 } }]);
    counts.lost += 1;
  }

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

function findEvent(store: Store, state: ContainerState, position: number): StoredEvent | undefined {
  return store.journal.readStream(`container-${state.id}`).find((e) => e.position === position);
}

/** A sandbox whose runtime service died cannot be adopted: nobody can see its exits. Kill it. */
async function removeOrphanSandbox(options: { root: string; driver: DriverName }, state: ContainerState): Promise<number | undefined> {
  try {
    const driver = await createDriver((state.runtime?.driver as DriverName | undefined) ?? options.driver, { root: options.root, id: state.id, config: state.config });
    const probe = await driver.probe();
    if (probe.status === "absent") return undefined;
    await driver.teardown();
    return probe.initPid;
  } catch {
    return undefined;
  }
}
