// The chaos test's parts: a storm of lifecycle calls from several clients (CLI-like runs, with
// and without --rm, and exec traffic with known exit codes), what the clients were told, and
// the invariants that must hold after every daemon restart.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { containerStream, type ContainerEvent, type StoredEvent } from "../../src/events/catalogue.js";
import type { RuntimeClient } from "../../src/ipc/runtime-client.js";
import type { ContainerState } from "../../src/projections/container.js";
import { fold } from "../../src/projections/index.js";
import { auditTransitions } from "../../src/projections/transitions.js";
import { mountsUnder } from "../../src/vm/hostcalls.js";
import { containerDir } from "../../src/vm/paths.js";
import { cgroupPath, runcRoot } from "../../src/vm/paths.js";
import { initMonitor, type MonitorProbe } from "./monitor.js";
import { checkAcknowledged, checkLost, type Ack, type CommandAck } from "./chaos-acks.js";
import type { Random } from "./random.js";
import { waitFor } from "./vm-sandbox.js";

export type { Ack };
const ACTIONS = ["create", "bootstrap", "start", "run", "run", "exec", "exec", "exec", "kill", "stop", "delete", "pause", "unpause"] as const;

/**
 * One client's random lifecycle calls. Refusals are expected; every call that returned ok is
 * recorded in `acks` with the commandId it sent, so the journal can be held to it.
 */
export async function storm(client: (id: string) => Promise<RuntimeClient>, ids: readonly string[], rng: Random, calls: number, log: string[], acks: Ack[] = []): Promise<void> {
  for (let i = 0; i < calls; i++) {
    const id = rng.pick(ids);
    const action = rng.pick(ACTIONS);
    let rc: RuntimeClient | undefined;
    try {
      rc = await client(id);
      const c = rc;
      // Each lifecycle call, recorded once it has returned ok.
      const call = async <T>(route: CommandAck["route"], fn: () => Promise<T>): Promise<T> => {
        const reply = await fn();
        acks.push({ id, route, commandId: c.lastCommandId!, reply: reply as ContainerState });
        return reply;
      };
      switch (action) {
        case "create": await call("create", () => c.createContainer({ init: { args: ["sleep", "1000"] } })); break;
        case "bootstrap": await call("bootstrap", () => c.bootstrap()); break;
        case "start": await call("startProcess", () => c.startProcess(id)); break;
        case "run": {
          // What `berth run [-d] [--rm]` does; the init ends by itself now and then.
          const args = rng.next() < 0.5 ? ["sleep", "1000"] : ["sh", "-c", `sleep 0.${rng.int(10)}; exit ${rng.int(4)}`];
          await call("create", () => c.createContainer({ init: { args }, autoRemove: rng.next() < 0.5 }));
          await call("bootstrap", () => c.bootstrap({ run: true }));
          await call("startProcess", () => c.startProcess(id));
          break;
        }
        case "exec": {
          // The exit code is in the process id, so the journal's exit can be checked against it.
          const code = rng.int(5);
          const pid = `x${rng.int(1_000_000)}-e${code}`;
          await call("createProcess", () => c.createProcess(pid, { args: ["sh", "-c", `exit ${code}`] }));
          await call("startProcess", () => c.startProcess(pid));
          const exit = await c.wait(pid);
          acks.push({ id, route: "wait", processId: pid, exitCode: exit.exitCode });
          break;
        }
        case "kill": await call("kill", () => c.kill(id, rng.pick(["SIGKILL", "SIGTERM"]))); break;
        case "stop": await call("stop", () => c.stop({ timeoutInSeconds: rng.int(2) })); break;
        case "delete": await call("delete", () => c.delete({ force: rng.next() < 0.5 })); break;
        case "pause": await call("pause", () => c.pause()); break;
        case "unpause": await call("unpause", () => c.unpause()); break;
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

/** Live (not zombie) host processes by the cgroup path they are in, from /proc. */
function processesByCgroup(): Map<string, number[]> {
  const byPath = new Map<string, number[]>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    let cgroups: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      cgroups = fs.readFileSync(`/proc/${name}/cgroup`, "utf8");
    } catch {
      continue; // it exited meanwhile
    }
    if (stat[stat.lastIndexOf(")") + 2] === "Z") continue;
    const paths = new Set(cgroups.split("\n").map((line) => line.split(":").slice(2).join(":")).filter(Boolean));
    for (const path of paths) byPath.set(path, [...(byPath.get(path) ?? []), Number(name)]);
  }
  return byPath;
}

/** The host processes still in a container's cgroup. */
function processesOf(byPath: Map<string, number[]>, root: string, id: string): number[] {
  const cg = cgroupPath(root, id);
  const pids = new Set<number>();
  for (const [path, list] of byPath) if (path === cg || path.startsWith(`${cg}/`)) list.forEach((p) => pids.add(p));
  return [...pids];
}

/** Statuses in which a container may hold a runtime service and a mounted rootfs. */
const HOLDS_SANDBOX = ["booted", "running", "paused"];

/** The invariants of the chaos test; returns what is violated (empty when all hold). */
export async function checkInvariants(root: string, events: StoredEvent[], verified: { ok: boolean }, acks: Ack[] = []): Promise<string[]> {
  const problems: string[] = [];
  if (!verified.ok) problems.push(`the hash chain does not verify: ${JSON.stringify(verified)}`);
  for (const p of auditTransitions(events)) problems.push(`illegal transition at ${p.position}: ${p.reason}`);
  problems.push(...checkLost(events), ...checkAcknowledged(events, acks));

  const exits = new Map<string, number>();
  for (const e of events) {
    if (e.type !== "ProcessExited") continue;
    const { processId, pid, exitCode, signal } = (e as StoredEvent<Extract<ContainerEvent, { type: "ProcessExited" }>>).data;
    const key = `${e.streamId}/${processId}/${pid}`;
    exits.set(key, (exits.get(key) ?? 0) + 1);
    const expected = /-e(\d)$/.exec(processId)?.[1];
    if (expected !== undefined && exitCode !== Number(expected) && !signal) problems.push(`exec ${key} ran \`exit ${expected}\` but its journaled exit code is ${exitCode}`);
  }
  for (const [key, n] of exits) if (n > 1) problems.push(`exit ${key} journaled ${n} times`);

  const projection = fold(events);
  const runc = runcView(root);
  const cgroups = processesByCgroup();
  const everCreated = new Set(events.filter((e) => e.type === "ContainerCreated").map((e) => (e.data as { id: string }).id));
  for (const id of everCreated) {
    const state = projection.containers[id];
    const status = state?.status ?? "deleted";
    const live = processesOf(cgroups, root, id);
    if (!HOLDS_SANDBOX.includes(status) && live.length > 0) problems.push(`${id} is ${status} in the journal but /proc has its processes ${live.join(", ")}`);
    const mounts = mountsUnder(containerDir(root, id));
    if (!HOLDS_SANDBOX.includes(status) && mounts.length > 0) problems.push(`${id} is ${status} but its rootfs is still mounted: ${mounts.join(", ")}`);
    // conmon exits just after the teardown that killed its process: give it that moment.
    const monitor = HOLDS_SANDBOX.includes(status) ? initMonitor(root, id) : await monitorGone(root, id);
    if (!HOLDS_SANDBOX.includes(status) && monitor.alive) problems.push(`${id} is ${status} but its conmon ${monitor.monitor!.pid} still runs`);
    if (status === "booted" && bootedByRun(events, id)) problems.push(`${id} was booted by a run that never started it, and still holds its sandbox`);
    if (!state) continue;
    if (state.pending.length > 0) problems.push(`${id}: intents without outcome after recovery: ${state.pending.map((p) => `${p.type}@${p.position}`).join(", ")}`);
    const sandbox = runc.get(id);
    // A booted sandbox is runc's "created": init waits for its start.
    const expected = status === "running" || status === "paused" ? status : status === "booted" ? "created" : undefined;
    if (sandbox !== expected) problems.push(`${id} is ${status} in the journal but runc has it ${sandbox ?? "absent"}`);
    if (HOLDS_SANDBOX.includes(status) && (!monitor.alive || monitor.monitor!.pid !== state.runtime?.pid)) {
      problems.push(`${id} is ${status} but its conmon ${state.runtime?.pid} is not the live one (${JSON.stringify(monitor)})`);
    }
  }
  for (const id of runc.keys()) if (!projection.containers[id]) problems.push(`runc has ${id}, which the journal says is deleted or never created`);
  return problems;
}

async function monitorGone(root: string, id: string): Promise<MonitorProbe> {
  await waitFor("a released sandbox's conmon to exit", () => !initMonitor(root, id).alive, 10_000).catch(() => {});
  return initMonitor(root, id);
}

function bootedByRun(events: StoredEvent[], id: string): boolean {
  const boots = events.filter((e) => e.streamId === containerStream(id) && e.type === "BootstrapRequested");
  return (boots.at(-1)?.data as { run?: boolean } | undefined)?.run === true;
}
