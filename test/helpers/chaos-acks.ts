// What the chaos test's clients were told, held against the journal after every daemon
// restart: a call that returned ok must be in the journal with its outcome, and no container is
// journaled lost when its init's exit was known.
import { containerIdOf, containerStream, INTENT_OUTCOMES, isIntent, type ContainerEvent, type StoredEvent } from "../../src/events/catalogue.js";
import { evolve, type ContainerState } from "../../src/projections/container.js";

/** One call that returned ok to its client. */
export type CommandAck = { id: string; route: "create" | "bootstrap" | "startProcess" | "createProcess" | "kill" | "stop" | "delete" | "pause" | "unpause"; commandId: string; reply: ContainerState };
export type Ack = CommandAck | { id: string; route: "wait"; processId: string; exitCode: number };

/** A stop of a container that is created, stopped or stopping appends nothing (as Apple's). */
const NO_OP_STOP = ["created", "stopped", "stopping"];

/** Every acknowledged command id is in the journal, with the outcome its reply waited for. */
export function checkAcknowledged(events: StoredEvent[], acks: Ack[]): string[] {
  const problems: string[] = [];
  const byCommand = new Map<string, StoredEvent[]>();
  const byCause = new Map<string, StoredEvent[]>();
  const exits = new Map<string, StoredEvent>();
  const at = new Map<number, StoredEvent>();
  for (const e of events) {
    at.set(e.position, e);
    if (e.commandId) byCommand.set(e.commandId, [...(byCommand.get(e.commandId) ?? []), e]);
    if (e.causationId) byCause.set(e.causationId, [...(byCause.get(e.causationId) ?? []), e]);
    if (e.type === "ProcessExited") exits.set(`${e.streamId}/${(e.data as { processId: string }).processId}`, e);
  }
  for (const ack of acks) {
    if (ack.route === "wait") {
      const exit = exits.get(`${containerStream(ack.id)}/${ack.processId}`);
      const journaled = exit ? (exit.data as { exitCode: number }).exitCode : 255; // none: unknowable, 255
      if (journaled !== ack.exitCode) problems.push(`wait for ${ack.id}/${ack.processId} answered ${ack.exitCode}, the journal says ${exit ? journaled : "no exit"}`);
      continue;
    }
    const own = byCommand.get(ack.commandId) ?? [];
    if (own.length === 0) {
      // Only a stop may append nothing; then the state it replied with must be the journal's.
      const r = ack.reply;
      const replied = at.get(r?.position);
      const durable = replied && replied.streamId === containerStream(ack.id) && replied.version === r.version;
      if (ack.route !== "stop" || !NO_OP_STOP.includes(r?.status) || !durable) problems.push(`acknowledged ${ack.route} of ${ack.id} (command ${ack.commandId}) is not in the journal`);
      continue;
    }
    const intent = own.find((e) => isIntent(e.type));
    if (!intent) continue; // a fact (created, process created, signal, deleted): its event is the outcome
    const outcomes = INTENT_OUTCOMES[intent.type as keyof typeof INTENT_OUTCOMES] as readonly string[];
    const outcome = (byCause.get(intent.eventId) ?? []).find((e) => outcomes.includes(e.type));
    if (!outcome) problems.push(`acknowledged ${ack.route} of ${ack.id} (command ${ack.commandId}) has no ${outcomes.join(" or ")} in the journal`);
  }
  return problems;
}

/** No ContainerLost for a container whose init exit is journaled. */
export function checkLost(events: StoredEvent[]): string[] {
  const problems: string[] = [];
  const states = new Map<string, ContainerState>();
  for (const event of events) {
    if (containerIdOf(event.streamId) === undefined) continue;
    const e = event as StoredEvent<ContainerEvent>;
    const before = states.get(e.streamId);
    if (e.type === "ContainerLost" && before?.processes[before.id]?.status === "exited") {
      problems.push(`ContainerLost at ${e.position} for ${before.id}, whose init exit (code ${before.exitCode}) is journaled: ${e.data.reason}`);
    }
    try {
      states.set(e.streamId, evolve(before, e));
    } catch {
      // auditTransitions reports it
    }
  }
  return problems;
}
