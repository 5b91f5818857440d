// Containers started before conmon kept their sandbox under a Node runtime service of their own,
// reached on a socket (the journal's runtime endpoint names it). This daemon cannot follow
// those: at recovery it stops each one cleanly through its old socket (init gets its stop
// signal and grace), and journals the exits it recorded, so such a container ends stopped with
// its real exit, never silently lost. docs/recovery.md, "Upgrading from a runtime service".
import { BerthError } from "../model/errors.js";
import type { ContainerState } from "../projections/container.js";
import { readExitRecords } from "../vm/exits.js";
import { probeRuntime } from "../vm/runtime-identity.js";
import { LegacyServiceClient } from "../vm/legacy-service-client.js";
import type { Runtimes } from "./runtimes.js";

export async function stopLegacyService(root: string, state: ContainerState, runtimes: Runtimes): Promise<void> {
  const probe = probeRuntime(root, state.id);
  const recorded = state.runtime!;
  if (probe.alive && probe.endpoint.pid === recorded.pid && probe.endpoint.startTime === recorded.startTime) {
    let client: LegacyServiceClient | undefined;
    try {
      client = await LegacyServiceClient.connect(probe.endpoint.socket, { timeoutMs: 30_000 });
      console.error(`berth daemon: ${state.id} runs under a runtime service from before conmon (pid ${recorded.pid}); stopping it`);
      await client.stop({ signal: state.config.stopSignal, timeoutInSeconds: state.config.stopTimeoutSeconds }).catch(() => {});
      for await (const exit of client.exits()) await runtimes.journalExit(state.id, exit);
      await client.shutdown().catch(() => {}); // the service exits once its sandbox is released
    } catch (err) {
      console.error(`berth daemon: cannot stop the old runtime service of ${state.id}: ${(err as BerthError).message}`);
    } finally {
      client?.close();
    }
  }
  // A service that died (or was just stopped) leaves its exit records on disk.
  for (const exit of readExitRecords(root, state.id)) await runtimes.journalExit(state.id, exit);
}
