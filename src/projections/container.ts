// The container projection: a pure fold of one container's events. No clock, no ids, no I/O:
// every time it shows comes from an event, so replaying the same events gives the same state.
import type { ContainerConfig, ProcessSpec } from "../model/config.js";
import type { ErrorInfo } from "../model/errors.js";
import { assertNever } from "../model/errors.js";
import type { Exit } from "../model/exit.js";
import { isIntent, type ContainerEvent, type IntentType, type RuntimeEndpoint, type StoredEvent } from "../events/catalogue.js";
import type { ContainerStatus } from "../model/lifecycle.js";
import type { NetworkAttachment } from "../model/network.js";

export type { ContainerStatus };
export type ProcessStatus = "created" | "starting" | "running" | "exited";

export interface ProcessState {
  id: string;
  spec: ProcessSpec;
  status: ProcessStatus;
  pid?: number;
  startedAt?: number;
  exitCode?: number;
  signal?: string;
  exitedAt?: number;
  oomKilled?: boolean;
  lastSignal?: string;
  error?: ErrorInfo;
}

export interface PendingIntent {
  type: IntentType;
  eventId: string;
  position: number;
  processId?: string;
}

export interface ContainerState {
  id: string;
  /** Set by `rename`; until then the container is called by its id. */
  name?: string;
  status: ContainerStatus;
  config: ContainerConfig;
  /** Stream version of the last event folded in. */
  version: number;
  /** Global position of the last event folded in. */
  position: number;
  createdAt: number;
  /**
   * The ContainerCreated that made this container: what the daemon's own commands for it (an
   * --rm auto-remove) name as their cause and correlation. Absent in snapshots written before
   * it existed; the snapshot check fills it from the fold (src/daemon/snapshot-check.ts).
   */
  createdBy?: EventRef;
  runtime?: RuntimeEndpoint;
  /** Keyed by process id; the init process's id is the container id. */
  processes: Record<string, ProcessState>;
  pid?: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  oomKilled?: boolean;
  lastError?: ErrorInfo;
  restartCount: number;
  /** Set by a user stop; a restart policy never undoes it. */
  stopRequested: boolean;
  /** Intents journaled whose outcome has not been journaled yet. */
  pending: PendingIntent[];
  /** The clients attached now, keyed by the id of their ProcessAttached (absent: none ever was). */
  attached?: Record<string, Attachment>;
  /** Its place on each network it is attached to, by network name (absent: never attached). */
  networks?: Record<string, NetworkAttachment>;
}

/** A client attached to a process's stdio; the event's actor is who. */
export interface Attachment {
  processId: string;
  since: number;
  stdin: boolean;
  tty: boolean;
}

/** An event named as a cause: its id, and the correlation it belongs to (if any). */
export interface EventRef {
  eventId: string;
  correlationId?: string;
}

/** The state of a stream before its first event: an id that was never used. */
export interface NoContainer {
  status: "none";
}

/** What the decider and evolve see: a container, or none yet. */
export type LifecycleState = ContainerState | NoContainer;

export const initialState: NoContainer = Object.freeze({ status: "none" });

/** The state as the projection keeps it: undefined when there is no container. */
export const existingState = (state: LifecycleState | undefined): ContainerState | undefined => (state && state.status !== "none" ? state : undefined);

export function evolve(state: LifecycleState | undefined, event: StoredEvent<ContainerEvent>): ContainerState {
  if (event.type === "ContainerCreated") return created(event);
  if (!state || state.status === "none") throw precedesCreate(event);
  // One shallow copy per event. `step` sets only the copy's own fields and replaces, never
  // changes, the objects they point to (processes, pending), so evolve stays pure.
  return step({ ...state }, event, false);
}

/**
 * evolve without the copies: `state` and its processes map are changed in place and `state`
 * returned (or replaced). Only for a fold that owns every state it holds and the objects in
 * them, one started from an empty, decoded or deep-cloned projection, so that no one else
 * holds a state that changes under them. A rebuild folds ~11 events per container, and the
 * copies were most of its fold time. model-property.test.ts checks that it agrees with evolve
 * at every step of random histories.
 */
export function evolveOwned(state: LifecycleState | undefined, event: StoredEvent<ContainerEvent>): ContainerState {
  if (event.type === "ContainerCreated") return created(event);
  if (!state || state.status === "none") throw precedesCreate(event);
  return step(state, event, true);
}

const precedesCreate = (event: StoredEvent<ContainerEvent>) => new Error(`event ${event.type} at position ${event.position} precedes ContainerCreated in ${event.streamId}`);

/**
 * Applies one event to `next`, which the caller owns: a fresh copy (evolve) or an owned state.
 * `owned`: the processes map is the caller's too, and may be changed in place.
 */
function step(next: ContainerState, event: Exclude<StoredEvent<ContainerEvent>, { type: "ContainerCreated" }>, owned: boolean): ContainerState {
  next.pending = nextPending(next, event);
  next.version = event.version;
  next.position = event.position;
  switch (event.type) {
    case "BootstrapRequested":
      next.status = "booting";
      return next;
    case "ContainerBooted":
      next.status = "booted";
      next.runtime = event.data.runtime;
      next.lastError = undefined;
      next.processes = { [next.id]: freshInit(next) };
      return next;
    case "BootstrapFailed":
      next.status = "created";
      next.lastError = event.data.error;
      return next;
    case "ProcessCreated":
      return withProcess(next, event.data.processId, { id: event.data.processId, spec: event.data.spec, status: "created" }, owned);
    case "ProcessStartRequested":
      return withProcess(next, event.data.processId, { ...next.processes[event.data.processId]!, status: "starting" }, owned);
    case "ProcessStarted":
      return started(next, event.data, owned);
    case "ProcessStartFailed":
      return startFailed(next, event.data, owned);
    case "SignalSent":
      return withProcess(next, event.data.processId, { ...next.processes[event.data.processId]!, lastSignal: event.data.signal }, owned);
    case "ProcessExited":
      return exited(next, event.data, owned);
    case "StopRequested":
      next.status = "stopping";
      next.stopRequested = true;
      return next;
    case "ContainerStopped":
      next.status = "stopped";
      next.runtime = undefined;
      next.processes = neverStarted(next.processes);
      return next;
    case "ShutdownRequested":
      next.status = "shuttingDown";
      return next;
    case "ContainerShutdown":
      next.status = "created";
      next.runtime = undefined;
      next.pid = undefined;
      next.stopRequested = false;
      next.processes = { [next.id]: freshInit(next) };
      return next;
    case "ContainerDeleted":
      next.status = "deleted";
      next.runtime = undefined;
      return next;
    case "ContainerLost":
      return lost(next, event.data.reason, event.time);
    case "RestartScheduled":
      next.restartCount = event.data.attempt;
      return next;
    case "PauseRequested":
    case "UnpauseRequested":
      return next;
    case "ContainerPaused":
      next.status = "paused";
      next.lastError = event.data.error ?? next.lastError;
      return next;
    case "ContainerUnpaused":
      next.status = "running";
      next.lastError = event.data.error ?? next.lastError;
      return next;
    case "ProcessAttached": {
      const { processId, stdin, tty } = event.data;
      next.attached = { ...next.attached, [event.eventId]: { processId, since: event.time, stdin, tty } };
      return next;
    }
    case "ProcessDetached": {
      const { [event.data.session]: _, ...rest } = next.attached ?? {};
      next.attached = rest;
      return next;
    }
    case "ContainerRenamed":
      next.name = event.data.to;
      return next;
    case "NetworkAttached":
      next.networks = { ...next.networks, [event.data.network]: event.data };
      return next;
    case "NetworkDetached": {
      const { [event.data.network]: _, ...rest } = next.networks ?? {};
      next.networks = rest;
      return next;
    }
    default:
      return assertNever(event);
  }
}

/** Folds a whole stream (or a prefix of one). */
export function foldContainer(events: Iterable<StoredEvent<ContainerEvent>>): ContainerState | undefined {
  let state: ContainerState | undefined;
  for (const event of events) state = evolve(state, event);
  return state;
}

function created(event: Extract<StoredEvent<ContainerEvent>, { type: "ContainerCreated" }>): ContainerState {
  const { id, config } = event.data;
  return {
    id,
    status: "created",
    config,
    version: event.version,
    position: event.position,
    createdAt: event.time,
    createdBy: event.correlationId === undefined ? { eventId: event.eventId } : { eventId: event.eventId, correlationId: event.correlationId },
    processes: { [id]: { id, spec: config.init, status: "created" } },
    restartCount: 0,
    stopRequested: false,
    pending: [],
  };
}

function freshInit(state: ContainerState): ProcessState {
  return { id: state.id, spec: state.config.init, status: "created" };
}

/** Intents join the pending list; an outcome settles the intent(s) it answers. */
function nextPending(state: ContainerState, event: StoredEvent<ContainerEvent>): PendingIntent[] {
  if (isIntent(event.type)) {
    const intent: PendingIntent = { type: event.type, eventId: event.eventId, position: event.position };
    if (event.type === "ProcessStartRequested") intent.processId = event.data.processId;
    return [...state.pending, intent];
  }
  if (state.pending.length === 0) return state.pending;
  const settled = settles(state, event);
  return settled.length === 0 ? state.pending : state.pending.filter((p) => !settled.includes(p));
}

function settles(state: ContainerState, event: StoredEvent<ContainerEvent>): PendingIntent[] {
  switch (event.type) {
    case "ContainerBooted":
    case "BootstrapFailed":
      return matching(state.pending, "BootstrapRequested");
    case "ProcessStarted":
    case "ProcessStartFailed":
      return matching(state.pending, "ProcessStartRequested", event.data.processId);
    case "ContainerPaused":
    case "ContainerUnpaused":
      return matching(state.pending, "PauseRequested").concat(matching(state.pending, "UnpauseRequested"));
    case "ContainerStopped":
    case "ContainerShutdown":
    case "ContainerLost":
      // The sandbox is gone: no other outcome can come any more, so every pending intent is settled.
      return state.pending;
    default:
      return [];
  }
}

// A plain loop, not filter with a closure: this runs for most events of every fold.
function matching(pending: PendingIntent[], type: IntentType, processId?: string): PendingIntent[] {
  const out: PendingIntent[] = [];
  for (const p of pending) if (p.type === type && (processId === undefined || p.processId === processId)) out.push(p);
  return out;
}

/** Replaces one process. The processes map is copied unless `owned`: otherwise it may be shared. */
function withProcess(next: ContainerState, processId: string, process: ProcessState, owned: boolean): ContainerState {
  if (owned) next.processes[processId] = process;
  else next.processes = { ...next.processes, [processId]: process };
  return next;
}

// The helpers below receive the state `step` owns, which they may change in place.

function started(state: ContainerState, data: { processId: string; pid: number; startedAt: number }, owned: boolean): ContainerState {
  const next = withProcess(state, data.processId, { ...state.processes[data.processId]!, status: "running", pid: data.pid, startedAt: data.startedAt }, owned);
  if (data.processId !== state.id) return next;
  next.status = "running";
  next.pid = data.pid;
  next.startedAt = data.startedAt;
  next.finishedAt = undefined;
  next.exitCode = undefined;
  next.oomKilled = undefined;
  next.stopRequested = false;
  return next;
}

function startFailed(state: ContainerState, data: { processId: string; error: ErrorInfo; exitCode?: number }, owned: boolean): ContainerState {
  if (data.processId === state.id) {
    const next = withProcess(state, data.processId, { ...state.processes[data.processId]!, status: "created", error: data.error }, owned);
    next.status = "booted";
    next.lastError = data.error;
    return next;
  }
  return withProcess(state, data.processId, { ...state.processes[data.processId]!, status: "exited", error: data.error, exitCode: data.exitCode ?? 126 }, owned);
}

function exited(state: ContainerState, exit: Exit, owned: boolean): ContainerState {
  const done: ProcessState = { ...state.processes[exit.processId]!, status: "exited", pid: exit.pid, exitCode: exit.exitCode, exitedAt: exit.exitedAt, oomKilled: exit.oomKilled };
  if (exit.signal !== undefined) done.signal = exit.signal;
  const next = withProcess(state, exit.processId, done, owned);
  if (exit.processId !== state.id) return next;
  // Init is gone, so the sandbox is going; ContainerStopped follows once it is torn down.
  next.status = "stopping";
  next.exitCode = exit.exitCode;
  next.finishedAt = exit.exitedAt;
  next.oomKilled = exit.oomKilled;
  return next;
}

/** Processes still waiting to start when the sandbox goes never will. */
function neverStarted(processes: Record<string, ProcessState>): Record<string, ProcessState> {
  const out: Record<string, ProcessState> = {};
  for (const id in processes) {
    const p = processes[id]!;
    out[id] = p.status === "starting" ? { ...p, status: "exited" } : p;
  }
  return out;
}

function lost(state: ContainerState, reason: string, time: number): ContainerState {
  const processes: Record<string, ProcessState> = {};
  for (const [id, p] of Object.entries(state.processes)) {
    processes[id] = p.status === "running" || p.status === "starting" ? { ...p, status: "exited", exitCode: 255, exitedAt: time } : p;
  }
  // An init that already exited keeps its real exit; otherwise the exit is unknowable: 255.
  const initExited = state.processes[state.id]?.status === "exited";
  return {
    ...state,
    status: "stopped",
    runtime: undefined,
    processes,
    exitCode: initExited ? state.exitCode : 255,
    finishedAt: initExited ? state.finishedAt : time,
    lastError: { code: "interrupted", message: reason },
  };
}
