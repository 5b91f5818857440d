// The chaos test's parts: a seeded random source, a storm of lifecycle calls from several
// clients, and the invariants that must hold after every daemon restart.
import { execFileSync } from "node:child_process";
import type { ContainerEvent, StoredEvent } from "../../src/events/catalogue.js";
import type { RuntimeClient } from "../../src/ipc/runtime-client.js";
import { fold } from "../../src/projections/index.js";
import { auditTransitions } from "../../src/projections/transitions.js";
import { probeRuntime, runcRoot } from "../../src/vm/runtime.js";
import { random, type Random } from "./random.js";

type Rng = Random;
const ACTIONS = ["create", "bootstrap", "start", "exec", "kill", "stop", "delete", "pause", "unpause"] as const;

/** One client's random lifecycle calls; refusals are expected, only the journal's truth matters. */
export async function storm(client: (id: string) => Promise<RuntimeClient>, ids: readonly string[], rng: Rng, calls: number, log: string[]): Promise<void> {
  for (let i = 0; i < calls; i++) {
    const id = rng.pick(ids);
    const action = rng.pick(ACTIONS);
    let rc: RuntimeClient | undefined;
    try {
      rc = await client(id);
      switch (action) {
        case "create": await rc.createContainer({ init: { args: ["sleep", "1000"] } }); break;
        case "bootstrap": await rc.bootstrap(); break;
        case "start": await rc.startProcess(id); break;
        case "exec": {
          const pid = `x${rng.int(1_000_000)}`;
          await rc.createProcess(pid, { args: ["sh", "-c", `exit ${rng.int(5)}`] });
          await rc.startProcess(pid);
          break;
        }
        case "kill": await rc.kill(id, rng.pick(["SIGKILL", "SIGTERM"])); break;
        case "stop": await rc.stop({ timeoutInSeconds: rng.int(2) }); break;
        case "delete": await rc.delete({ force: rng.next() < 0.5 }); break;
        case "pause": await rc.pause(); break;
        case "unpause": await rc.unpause(); break;
      }
      log.push(`${id} ${action} ok`);
    } catch (err) {
      log.push(`${id} ${action} ${(err as { code?: string }).code ?? (err as Error).message}`);
    } finally {
      rc?.close();
    }
  }
}

function runcView(root: string): Map<string, string> {
  const out = execFileSync("runc", ["--root", runcRoot(root), "list", "--format", "json"], { encoding: "utf8" }).trim();
  const list = (out && out !== "null" ? JSON.parse(out) : []) as { id: string; status: string }[];
  return new Map(list.map((c) => [c.id, c.status]));
}

/** The invariants of issue 5's chaos test; returns what is violated (empty when all hold). */
export function checkInvariants(root: string, events: StoredEvent[], verified: { ok: boolean }): string[] {
  const problems: string[] = [];
  if (!verified.ok) problems.push(`the hash chain does not verify: ${JSON.stringify(verified)}`);
  for (const p of auditTransitions(events)) problems.push(`illegal transition at ${p.position}: ${p.reason}`);

  const exits = new Map<string, number>();
  for (const e of events) {
    if (e.type !== "ProcessExited") continue;
    const { processId, pid } = (e as StoredEvent<Extract<ContainerEvent, { type: "ProcessExited" }>>).data;
    const key = `${e.streamId}/${processId}/${pid}`;
    exits.set(key, (exits.get(key) ?? 0) + 1);
  }
  for (const [key, n] of exits) if (n > 1) problems.push(`exit ${key} journaled ${n} times`);

  const projection = fold(events);
  const runc = runcView(root);
  for (const state of Object.values(projection.containers)) {
    if (state.pending.length > 0) problems.push(`${state.id}: intents without outcome after recovery: ${state.pending.map((p) => `${p.type}@${p.position}`).join(", ")}`);
    const sandbox = runc.get(state.id);
    const expected = state.status === "running" || state.status === "paused" ? state.status : undefined;
    if (sandbox !== expected) problems.push(`${state.id} is ${state.status} in the journal but runc has it ${sandbox ?? "absent"}`);
    if (state.status === "running" || state.status === "paused" || state.status === "booted") {
      const probe = probeRuntime(root, state.id);
      if (!probe.alive || probe.endpoint.pid !== state.runtime?.pid) problems.push(`${state.id} is ${state.status} but its runtime service ${state.runtime?.pid} is not the live one (${JSON.stringify(probe)})`);
    }
  }
  for (const id of runc.keys()) if (!projection.containers[id]) problems.push(`runc has ${id}, which the journal says is deleted or never created`);
  return problems;
}
