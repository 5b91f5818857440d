// Which journaled events are legal in which state: the state machine of docs/architecture.md read
// backwards. The decider guards what clients ask; this guards what the journal says, so audits
// and tests can prove a journal never holds a transition the machine forbids.
import { ALLOWED } from "../commands/decide.js";
import { containerIdOf, type ContainerEvent, type StoredEvent } from "../events/catalogue.js";
import type { ContainerState, ContainerStatus } from "./container.js";
import { evolve } from "./container.js";

const pendingOf = (state: ContainerState, type: string, processId?: string) =>
  state.pending.some((p) => p.type === type && (processId === undefined || p.processId === processId));

/** Why `event` may not follow `state`, or undefined when it may. */
export function illegalTransition(state: ContainerState | undefined, event: StoredEvent<ContainerEvent>): string | undefined {
  const live = state && state.status !== "deleted" ? state : undefined;
  if (event.type === "ContainerCreated") return live ? `ContainerCreated while ${live.status}` : undefined;
  if (!live) return `${event.type} for a container that does not exist`;
  const inStatus = (allowed: readonly ContainerStatus[]) => (allowed.includes(live.status) ? undefined : `${event.type} while ${live.status} (allowed: ${allowed.join(", ")})`);
  const process = "processId" in event.data ? live.processes[(event.data as { processId: string }).processId] : undefined;
  switch (event.type) {
    case "BootstrapRequested":
      return inStatus(ALLOWED.bootstrap);
    case "ContainerBooted":
    case "BootstrapFailed":
      return pendingOf(live, "BootstrapRequested") ? undefined : `${event.type} without a pending bootstrap`;
    case "ProcessCreated":
      return inStatus(ALLOWED.createProcess) ?? (process ? `ProcessCreated for existing process ${event.data.processId}` : undefined);
    case "ProcessStartRequested":
      return inStatus(ALLOWED.startProcess) ?? (process?.status === "created" ? undefined : `start of process ${event.data.processId} that is ${process?.status ?? "unknown"}`);
    case "ProcessStarted":
    case "ProcessStartFailed":
      return pendingOf(live, "ProcessStartRequested", event.data.processId) ? undefined : `${event.type} without a pending start of ${event.data.processId}`;
    case "SignalSent":
      return inStatus(ALLOWED.kill) ?? (process?.status === "running" ? undefined : `signal to process ${event.data.processId} that is ${process?.status ?? "unknown"}`);
    case "ProcessExited":
      return process?.status === "running" || process?.status === "starting" ? undefined : `exit of process ${event.data.processId} that is ${process?.status ?? "unknown"}`;
    case "StopRequested":
      return inStatus(ALLOWED.stop);
    case "ContainerStopped":
      return inStatus(["stopping"]) ?? (live.processes[live.id]?.status === "running" ? "ContainerStopped while init still runs" : undefined);
    case "ShutdownRequested":
      return inStatus(ALLOWED.shutdown);
    case "ContainerShutdown":
      return pendingOf(live, "ShutdownRequested") ? undefined : "ContainerShutdown without a pending shutdown";
    case "ContainerDeleted":
      return inStatus(ALLOWED.delete);
    case "ContainerLost":
      return inStatus(["booted", "running", "paused", "stopping"]);
    case "PauseRequested":
      return inStatus(ALLOWED.pause);
    case "UnpauseRequested":
      return inStatus(ALLOWED.unpause);
    case "ContainerPaused":
    case "ContainerUnpaused":
      return pendingOf(live, "PauseRequested") || pendingOf(live, "UnpauseRequested") ? inStatus(["running", "paused"]) : `${event.type} without a pending pause or unpause`;
    case "RestartScheduled":
      return inStatus(["stopped"]);
  }
}

/** Folds a whole journal and lists every illegal transition in it. */
export function auditTransitions(events: Iterable<StoredEvent>): { position: number; reason: string }[] {
  const states = new Map<string, ContainerState>();
  const problems: { position: number; reason: string }[] = [];
  for (const event of events) {
    if (containerIdOf(event.streamId) === undefined) continue;
    const e = event as StoredEvent<ContainerEvent>;
    const before = states.get(event.streamId);
    const reason = illegalTransition(before, e);
    if (reason) problems.push({ position: event.position, reason });
    try {
      states.set(event.streamId, evolve(before, e));
    } catch (err) {
      problems.push({ position: event.position, reason: (err as Error).message });
    }
  }
  return problems;
}
