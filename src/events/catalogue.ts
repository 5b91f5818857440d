// Every event berth journals, named once with its payload. Intents (…Requested) ask the reactor
// for an effect; outcomes record what really happened and carry the intent as their causation.
// Bump an event's entry in SCHEMA_VERSIONS when its payload changes, and register an upcaster.
import type { ContainerConfig, ProcessSpec } from "../model/config.js";
import type { ErrorInfo } from "../model/errors.js";
import type { Exit } from "../model/exit.js";
import type { NetworkAttachment, NetworkDefinition } from "../model/network.js";

/**
 * Who keeps a container's sandbox: conmon (the runc driver), or the daemon itself (the fake
 * driver). Journals from before conmon name a Node runtime service and its socket instead.
 */
export interface RuntimeEndpoint {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: a pid alone is not an identity. */
  startTime: number;
  driver: string;
  /** Absent in a journal from before conmon: a runtime service process, reached on `socket`. */
  monitor?: "conmon" | "daemon";
  socket?: string;
}

export type ContainerEvent =
  | { type: "ContainerCreated"; data: { id: string; config: ContainerConfig } }
  // run: the bootstrap is the first half of a `berth run` (absent before it was recorded).
  | { type: "BootstrapRequested"; data: { dynamicEnv: Record<string, string>; run?: boolean } }
  | { type: "ContainerBooted"; data: { runtime: RuntimeEndpoint } }
  | { type: "BootstrapFailed"; data: { error: ErrorInfo } }
  | { type: "ProcessCreated"; data: { processId: string; spec: ProcessSpec } }
  | { type: "ProcessStartRequested"; data: { processId: string } }
  | { type: "ProcessStarted"; data: { processId: string; pid: number; startedAt: number } }
  | { type: "ProcessStartFailed"; data: { processId: string; error: ErrorInfo; exitCode?: number } }
  | { type: "SignalSent"; data: { processId: string; signal: string } }
  | { type: "ProcessExited"; data: Exit }
  | { type: "StopRequested"; data: { signal: string; timeoutInSeconds: number } }
  | { type: "ContainerStopped"; data: Record<string, never> }
  | { type: "ShutdownRequested"; data: Record<string, never> }
  | { type: "ContainerShutdown"; data: Record<string, never> }
  | { type: "ContainerDeleted"; data: Record<string, never> }
  | { type: "ContainerLost"; data: { reason: string; exitCode: 255 } }
  | { type: "RestartScheduled"; data: { attempt: number; delayMs: number } }
  | { type: "PauseRequested"; data: Record<string, never> }
  /** The container is frozen; `error` says why an unpause request failed and left it so. */
  | { type: "ContainerPaused"; data: { error?: ErrorInfo } }
  | { type: "UnpauseRequested"; data: Record<string, never> }
  /** The container runs (not frozen); `error` says why a pause request failed and left it so. */
  | { type: "ContainerUnpaused"; data: { error?: ErrorInfo } }
  // Who had a process's terminal or stdin, and when: the client is the event's actor. What
  // they typed and saw is never journaled. `session` is the id of the ProcessAttached it ends.
  | { type: "ProcessAttached"; data: { processId: string; stdin: boolean; tty: boolean } }
  | { type: "ProcessDetached"; data: { processId: string; session: string; reason: DetachReason } }
  // `berth rename`: what users call the container; its id (the stream, runc's id) stays.
  | { type: "ContainerRenamed"; data: { from: string; to: string } }
  // The container's place on a network (docs/network.md): journaled after the CNI ADD, before
  // its boot completes; detached once its sandbox is gone (or at a disconnect).
  | { type: "NetworkAttached"; data: NetworkAttachment }
  | { type: "NetworkDetached"; data: NetworkDetachment };

/**
 * What a container gave up, with why: the attachment as it was (its MAC, gateway and ports are
 * absent from events journaled before they were recorded here).
 */
export interface NetworkDetachment extends Partial<NetworkAttachment> {
  network: string;
  address: string;
  reason: NetworkDetachReason;
}

/** Why a container left a network: its sandbox ended, a client disconnected it, or recovery found its attachment stale. */
export type NetworkDetachReason = "stopped" | "disconnected" | "recovered";

/**
 * Why a client left: it detached (its detach keys, or it ended its stdin), the process ended,
 * or its connection closed without a word (the CLI was killed, the host went away).
 */
export type DetachReason = "detached" | "exited" | "clientGone";
export const DETACH_REASONS: readonly DetachReason[] = ["detached", "exited", "clientGone"];

/** Something under the root that the journal does not know (src/daemon/orphans.ts). */
export interface Orphan {
  /** The container id it belongs to (a directory name under containers/, or runc's id). */
  id: string;
  /** The id is a container the journal knows (then only its stray parts are orphans). */
  known: boolean;
  runc?: { status: string; pid: number };
  monitor?: { pid: number; startTime: number };
  mounts: string[];
  /** The container directory, when the journal does not know the container at all. */
  directory?: string;
}

/** "web: runc container (running, pid 12), monitor pid 34, 1 mount, its directory". */
export function describeOrphan(o: Orphan): string {
  return `${o.id}${o.known ? " (a container the journal knows as stopped or created)" : " (a container the journal does not know)"}: ${orphanParts(o)}`;
}

export function orphanParts(o: Orphan): string {
  const parts: string[] = [];
  if (o.runc) parts.push(`runc container (${o.runc.status}${o.runc.pid ? `, pid ${o.runc.pid}` : ""})`);
  if (o.monitor) parts.push(`monitor pid ${o.monitor.pid}`);
  if (o.mounts.length) parts.push(o.mounts.length === 1 ? `mount ${o.mounts[0]}` : `${o.mounts.length} mounts under ${o.directory ?? o.id}`);
  if (o.directory) parts.push(`directory ${o.directory}`);
  return parts.join(", ");
}

/**
 * Acknowledged positions `from`..`to` are not in the journal (or hold other events than were
 * acknowledged), as witnesses outside the file prove (docs/journal.md, Lost tails). `head` is
 * where the journal ended when the loss was found; `evidence` names the witnesses.
 */
export interface JournalLoss {
  from: number;
  to: number;
  head: number;
  evidence: string[];
}

export type DaemonEvent =
  | { type: "DaemonRecovered"; data: { adopted: number; exitsRecovered: number; lost: number; intentsResolved: number } }
  /** The start-up scan found it; `key` names exactly what was found, so an unchanged orphan is journaled once. */
  | { type: "OrphanFound"; data: { orphan: Orphan; key: string } }
  /** `system prune --orphans` killed and removed it (`pruned`), or a later scan no longer found it (`vanished`). */
  | { type: "OrphanRemoved"; data: { key: string; id: string; how: "pruned" | "vanished" } }
  /** The daemon was started with --accept-journal-loss over a journal that lost acknowledged events. */
  | { type: "JournalLossAccepted"; data: JournalLoss };

// Images (src/vm/image/, docs/images.md): the image store changed. The actor is the envelope's;
// credentials used for a pull are never part of any event.
export type ImageEvent =
  /** `berth pull`: the reference now names this manifest (the platform's, when the tag named an index). */
  | { type: "ImagePulled"; data: { reference: string; digest: string; config: string; index?: string; platform: string; size: number } }
  /** `berth load`: the reference now names this manifest, read from an archive (`format`) the client named. */
  | { type: "ImageLoaded"; data: { reference: string; digest: string; config: string; platform: string; size: number; format: "oci-archive" | "docker-archive" } }
  /** `berth image tag`: `reference` now names the same image as `source`. */
  | { type: "ImageTagged"; data: { reference: string; source: string; digest: string } }
  /** `berth image rm` (or `image prune`): the reference no longer names anything; `freed` are the blobs and trees deleted with it. */
  | { type: "ImageRemoved"; data: { reference: string; digest: string; freed: string[] } };

// Networks (docs/network.md): what a network is, from create to rm. The actor is the envelope's.
export type NetworkEvent =
  | { type: "NetworkCreated"; data: NetworkDefinition }
  | { type: "NetworkRemoved"; data: { name: string; id: string } };

/** The stream every network definition event is in. */
export const NETWORK_STREAM = "networks";

/** The stream every image event is in. */
export const IMAGE_STREAM = "images";

export type BerthEvent = ContainerEvent | DaemonEvent | ImageEvent | NetworkEvent;
export type EventType = BerthEvent["type"];
export type EventOf<T extends EventType> = Extract<BerthEvent, { type: T }>;

/** Current schema version of each event type; stored with every event. */
export const SCHEMA_VERSIONS: Record<EventType, number> = {
  ContainerCreated: 2,
  BootstrapRequested: 1,
  ContainerBooted: 1,
  BootstrapFailed: 1,
  ProcessCreated: 1,
  ProcessStartRequested: 1,
  ProcessStarted: 1,
  ProcessStartFailed: 1,
  SignalSent: 1,
  ProcessExited: 2,
  StopRequested: 1,
  ContainerStopped: 1,
  ShutdownRequested: 1,
  ContainerShutdown: 1,
  ContainerDeleted: 1,
  ContainerLost: 1,
  RestartScheduled: 1,
  PauseRequested: 1,
  ContainerPaused: 1,
  UnpauseRequested: 1,
  ContainerUnpaused: 1,
  ProcessAttached: 1,
  ProcessDetached: 1,
  ContainerRenamed: 1,
  DaemonRecovered: 1,
  OrphanFound: 1,
  OrphanRemoved: 1,
  JournalLossAccepted: 1,
  ImagePulled: 1,
  ImageLoaded: 1,
  ImageTagged: 1,
  ImageRemoved: 1,
  NetworkCreated: 1,
  NetworkRemoved: 1,
  NetworkAttached: 1,
  NetworkDetached: 1,
};

export const EVENT_TYPES = Object.keys(SCHEMA_VERSIONS) as EventType[];

/** Intents and the outcome types that settle them. */
export const INTENT_OUTCOMES = {
  BootstrapRequested: ["ContainerBooted", "BootstrapFailed"],
  ProcessStartRequested: ["ProcessStarted", "ProcessStartFailed"],
  StopRequested: ["ContainerStopped"],
  ShutdownRequested: ["ContainerShutdown"],
  PauseRequested: ["ContainerPaused", "ContainerUnpaused"],
  UnpauseRequested: ["ContainerUnpaused", "ContainerPaused"],
} as const satisfies Partial<Record<EventType, readonly EventType[]>>;

export type IntentType = keyof typeof INTENT_OUTCOMES;
export const isIntent = (type: string): type is IntentType => type in INTENT_OUTCOMES;

// ContainerLost also answers the intent it names as its cause: a stop whose runtime vanished.
const OUTCOME_TYPES: ReadonlySet<string> = new Set<string>([...Object.values(INTENT_OUTCOMES).flat(), "ContainerLost"]);
/** An outcome type: with a causation id, the event that answers that intent. */
export const isOutcome = (type: string): boolean => OUTCOME_TYPES.has(type);

/** Who caused an event, as the kernel reported the client's socket peer. */
export interface Actor {
  uid: number;
  gid: number;
  pid: number;
}

/** Metadata a writer supplies with an append; position, version and hash are the journal's. */
export interface EventMeta {
  eventId: string;
  /** Milliseconds since the epoch. */
  time: number;
  commandId?: string;
  correlationId?: string;
  causationId?: string;
  actor?: Actor;
}

/** An event as read back from the journal. */
export type StoredEvent<E extends BerthEvent = BerthEvent> = E &
  EventMeta & {
    position: number;
    streamId: string;
    version: number;
    schemaVersion: number;
  };

// A container's stream id is "container-<id>": built and parsed only here.
export const CONTAINER_PREFIX = "container-";
export const containerStream = (id: string) => `${CONTAINER_PREFIX}${id}`;
export const DAEMON_STREAM = "daemon";
/** The container id of a container's stream, undefined for any other stream (the daemon's). */
export const containerIdOf = (streamId: string) => (streamId.startsWith(CONTAINER_PREFIX) ? streamId.slice(CONTAINER_PREFIX.length) : undefined);
