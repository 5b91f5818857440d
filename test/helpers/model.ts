// Given/when/then for the pure model, and canned event histories that reach each status.
import * as assert from "uvu/assert";
import type { Command, CommandInput } from "../../src/commands/commands.js";
import { decide, deciderFor, type Decision } from "../../src/commands/decide.js";
import { validateCommand } from "../../src/commands/parse.js";
import type { ErrorCode } from "../../src/model/errors.js";
import { containerStream, type ContainerEvent, type StoredEvent } from "../../src/events/catalogue.js";
import { LIFECYCLE, type Lifecycle, type LifecycleStatus } from "../../src/model/lifecycle.js";
import { existingState, foldContainer, type ContainerState, type ContainerStatus, type LifecycleState } from "../../src/projections/container.js";
import { illegalTransition } from "../../src/projections/transitions.js";

export const T0 = Date.UTC(2026, 0, 1);

/** Deterministic envelopes, as the journal would add them. */
export function stored(events: ContainerEvent[], id = "c1", from = 0): StoredEvent<ContainerEvent>[] {
  return events.map((e, i) => ({ ...e, eventId: `e${from + i + 1}`, time: T0 + (from + i) * 1000, position: from + i + 1, streamId: containerStream(id), version: from + i + 1, schemaVersion: 1 }) as StoredEvent<ContainerEvent>);
}

/**
 * What thenFails(code, reason) compares `reason` with: the message. The decider's refusals are
 * business rules with a code and words; the machine-readable `reason`s (src/model/errors.ts)
 * belong to runtime failures, which the reactor specs check on the journaled error.
 */
function reasonOf(error: { message: string }): string {
  return error.message;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; reason: string };

/** A spec's command, checked as the route's parser checks a request; throws when it is bad. */
export function command(input: CommandInput): Command {
  const parsed = validateCommand(input);
  if (!parsed.ok) throw new Error(`bad command in a spec: ${parsed.error.message}`);
  return parsed.value;
}

/**
 * Given/when/then for the pure model. `when(command)` specifies the parser and decide together,
 * as a route runs them: a command the parser refuses is refused before decide sees it; `whenEvent(event)`
 * specifies evolve and the journal's transition rules (transitions.ts). `table` is the
 * lifecycle table the model reads: the specs pass a changed one to prove that they notice.
 * A step that throws is a failure of the spec, not of the test run.
 */
export function given(events: ContainerEvent[], id = "c1", table: Lifecycle = LIFECYCLE) {
  const decider = deciderFor(table);
  const history = stored(events, id);
  const state = history.reduce<LifecycleState>((s, e) => decider.evolve(s, e), decider.initialState);
  const label = (what: string) => `${what} in ${state.status}`;
  return {
    state: existingState(state),
    when(input: CommandInput) {
      const parsed = validateCommand(input);
      const decision: Decision = parsed.ok ? decider.decide(state, parsed.value) : { ok: false, error: parsed.error };
      const what = label(input.type);
      return {
        decision,
        then(expected: ContainerEvent[] | ErrorCode) {
          if (typeof expected === "string") {
            assert.equal(decision.ok ? "accepted" : decision.error.code, expected, what);
          } else {
            assert.equal(decision.ok ? decision.events : decision.error, expected, what);
          }
        },
        /** Accepted with these event types (their data is the business of the finer specs). */
        thenAppends(...types: ContainerEvent["type"][]) {
          assert.equal(decision.ok ? decision.events.map((e) => e.type) : decision.error.code, types, what);
        },
        thenNothingHappened() {
          assert.equal(decision.ok ? decision.events : decision.error, [], what);
        },
        /** Refused with `code`; `reason`, when given, is matched against `reasonOf` the error. */
        thenFails(code: ErrorCode, reason?: string | RegExp) {
          assert.equal(decision.ok ? "accepted" : decision.error.code, code, what);
          if (reason !== undefined && !decision.ok) assert.match(reasonOf(decision.error), reason, what);
        },
      };
    },
    whenEvent(event: ContainerEvent) {
      const [next] = stored([event], id, history.length);
      const what = label(event.type);
      const outcome = ((): Outcome<LifecycleState> => {
        const illegal = illegalTransition(state, next!, table);
        if (illegal) return { ok: false, code: "illegalTransition", reason: illegal };
        try {
          return { ok: true, value: decider.evolve(state, next!) };
        } catch (err) {
          return { ok: false, code: "evolveFailed", reason: (err as Error).message };
        }
      })();
      return {
        outcome,
        /** Legal, and the container ends in `status`. */
        then(status: LifecycleStatus) {
          assert.equal(outcome.ok ? outcome.value.status : `${outcome.code}: ${outcome.reason}`, status, what);
        },
        /** The journal may not hold it here; `reason`, when given, is found in the audit's reason. */
        thenFails(reason?: string | RegExp) {
          assert.equal(outcome.ok ? "legal" : outcome.code, "illegalTransition", what);
          if (reason !== undefined && !outcome.ok) assert.match(outcome.reason, reason, what);
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
  const decision = decide(undefined, command({ type: "create", id, config: { init: initArgs } }));
  if (!decision.ok) throw new Error(decision.error.message);
  return (decision.events[0] as Extract<ContainerEvent, { type: "ContainerCreated" }>).data.config;
}

export function stateIn(status: ContainerStatus, id = "c1"): ContainerState {
  return foldContainer(stored(history[status](id), id))!;
}
