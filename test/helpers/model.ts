// Given/when/then for the pure model, and canned event histories that reach each status.
import * as assert from "uvu/assert";
import type { Command } from "../../src/commands/commands.js";
import { decide } from "../../src/commands/decide.js";
import type { ErrorCode } from "../../src/errors.js";
import { containerStream, type ContainerEvent, type StoredEvent } from "../../src/events/catalogue.js";
import { foldContainer, type ContainerState, type ContainerStatus } from "../../src/projections/container.js";

export const T0 = Date.UTC(2026, 0, 1);

/** Deterministic envelopes, as the journal would add them. */
export function stored(events: ContainerEvent[], id = "c1", from = 0): StoredEvent<ContainerEvent>[] {
  return events.map((e, i) => ({ ...e, eventId: `e${from + i + 1}`, time: T0 + (from + i) * 1000, position: from + i + 1, streamId: containerStream(id), version: from + i + 1, schemaVersion: 1 }) as StoredEvent<ContainerEvent>);
}

export function given(events: ContainerEvent[], id = "c1") {
  const state = foldContainer(stored(events, id));
  return {
    state,
    when(command: Command) {
      const decision = decide(state, command);
      return {
        decision,
        then(expected: ContainerEvent[] | ErrorCode) {
          if (typeof expected === "string") {
            assert.equal(decision.ok ? "accepted" : decision.error.code, expected, `${command.type} in ${state?.status ?? "none"}`);
          } else {
            assert.equal(decision.ok ? decision.events : decision.error, expected, `${command.type} in ${state?.status ?? "none"}`);
          }
        },
      };
    },
  };
}

export const initArgs = { args: ["sh", "-c", "sleep 1000"] };
const runtime = { pid: 100, startTime: 5, socket: "/run/x.sock", driver: "fake" };

export const history = {
  created: (id = "c1"): ContainerEvent[] => [{ type: "ContainerCreated", data: { id, config: configFor(id) } }],
  booting: (id = "c1"): ContainerEvent[] => [...history.created(id), { type: "BootstrapRequested", data: { dynamicEnv: {} } }],
  booted: (id = "c1"): ContainerEvent[] => [...history.booting(id), { type: "ContainerBooted", data: { runtime } }],
  running: (id = "c1"): ContainerEvent[] => [
    ...history.booted(id),
    { type: "ProcessStartRequested", data: { processId: id } },
    { type: "ProcessStarted", data: { processId: id, pid: 200, startedAt: T0 + 5 } },
  ],
  paused: (id = "c1"): ContainerEvent[] => [...history.running(id), { type: "PauseRequested", data: {} }, { type: "ContainerPaused", data: {} }],
  stopping: (id = "c1"): ContainerEvent[] => [...history.running(id), { type: "StopRequested", data: { signal: "SIGTERM", timeoutInSeconds: 1 } }],
  stopped: (id = "c1"): ContainerEvent[] => [
    ...history.stopping(id),
    { type: "ProcessExited", data: { processId: id, pid: 200, exitCode: 137, signal: "SIGKILL", exitedAt: T0 + 9, oomKilled: false } },
    { type: "ContainerStopped", data: {} },
  ],
  shuttingDown: (id = "c1"): ContainerEvent[] => [...history.stopped(id), { type: "ShutdownRequested", data: {} }],
  deleted: (id = "c1"): ContainerEvent[] => [...history.stopped(id), { type: "ContainerDeleted", data: {} }],
} satisfies Record<Exclude<ContainerStatus, never>, (id?: string) => ContainerEvent[]>;

export function configFor(id: string) {
  const decision = decide(undefined, { type: "create", id, config: { init: initArgs } });
  if (!decision.ok) throw new Error(decision.error.message);
  return (decision.events[0] as Extract<ContainerEvent, { type: "ContainerCreated" }>).data.config;
}

export function stateIn(status: ContainerStatus, id = "c1"): ContainerState {
  return foldContainer(stored(history[status](id), id))!;
}
