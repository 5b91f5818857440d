// Which journaled events are legal in which state: the state machine of src/model/lifecycle.ts
// read backwards. The decider guards what clients ask; this guards what the journal says, so
// audits and tests can prove a journal never holds a transition the machine forbids.
import { containerIdOf, type ContainerEvent, type StoredEvent } from "../events/catalogue.js";
import { isAbsent, LIFECYCLE, type Lifecycle, type LifecycleEventType } from "../model/lifecycle.js";
import type { ContainerState, LifecycleState } from "./container.js";
import { evolve, initialState } from "./container.js";

// The table names every container event: one added to the catalogue without a rule does not compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const EVENTS_MATCH_LIFECYCLE: Same<ContainerEvent["type"], LifecycleEventType> = true;

const pendingOf = (state: ContainerState, type: string, processId?: string) =>
  state.pending.some((p) => p.type === type && (processId === undefined || p.processId === processId));

/** Why `event` may not follow `state`, or undefined when it may. `table`: the lifecycle table (the specs pass a changed one). */
export function illegalTransition(state: LifecycleState | undefined, event: StoredEvent<ContainerEvent>, table: Lifecycle = LIFECYCLE): string | undefined {
  const current = state ?? initialState;
  const rule = table.events[event.type];
  const inStatus = () => (!rule.in || rule.in.includes(current.status) ? undefined : `${event.type} while ${current.status} (allowed: ${rule.in.join(", ")})`);
  if (isAbsent(current.status)) {
    // Only the events the table allows on no container may come first (today: ContainerCreated).
    if (rule.in?.includes(current.status)) return undefined;
    return event.type === "ContainerCreated" ? `ContainerCreated while ${current.status}` : `${event.type} for a container that does not exist`;
  }
  if (event.type === "ContainerCreated") return inStatus() && `ContainerCreated while ${current.status}`;
  const live = current as ContainerState;
  const processId = event.type === "ProcessStartRequested" || event.type === "ProcessStarted" || event.type === "ProcessStartFailed" ? event.data.processId : undefined;
  if (rule.after && !rule.after.some((intent) => pendingOf(live, intent, intent === "ProcessStartRequested" ? processId : undefined))) return withoutIntent(event);
  return inStatus() ?? processRule(live, event);
}

// The old messages name the missing intent in words; keep them.
function withoutIntent(event: StoredEvent<ContainerEvent>): string {
  switch (event.type) {
    case "ContainerBooted":
    case "BootstrapFailed":
      return `${event.type} without a pending bootstrap`;
    case "ProcessStarted":
    case "ProcessStartFailed":
      return `${event.type} without a pending start of ${event.data.processId}`;
    case "ContainerShutdown":
      return "ContainerShutdown without a pending shutdown";
    default:
      return `${event.type} without a pending pause or unpause`;
  }
}

/** What the event requires of the process it names (the status table knows only containers). */
function processRule(live: ContainerState, event: StoredEvent<ContainerEvent>): string | undefined {
  const process = "processId" in event.data ? live.processes[(event.data as { processId: string }).processId] : undefined;
  switch (event.type) {
    case "ProcessCreated":
      return process ? `ProcessCreated for existing process ${event.data.processId}` : undefined;
    case "ProcessStartRequested":
      return process?.status === "created" ? undefined : `start of process ${event.data.processId} that is ${process?.status ?? "unknown"}`;
    case "SignalSent":
      return process?.status === "running" ? undefined : `signal to process ${event.data.processId} that is ${process?.status ?? "unknown"}`;
    case "ProcessExited":
      return process?.status === "running" || process?.status === "starting" ? undefined : `exit of process ${event.data.processId} that is ${process?.status ?? "unknown"}`;
    case "ContainerStopped":
      return live.processes[live.id]?.status === "running" ? "ContainerStopped while init still runs" : undefined;
    default:
      return undefined;
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
