// The projection of every container: a pure fold of the whole journal, keyed by container id.
// Snapshots store it with its position so a restart folds only the tail; stateAt() folds a
// prefix of the journal for time travel. A deleted container leaves the projection entirely:
// a long history of deleted containers costs neither memory nor snapshot size. (Its stream
// version, needed when the id is created again, is the journal's to tell.)
import { containerIdOf, IMAGE_STREAM, NETWORK_STREAM, type BerthEvent, type ContainerEvent, type ImageEvent, type NetworkEvent, type StoredEvent } from "../events/catalogue.js";
import type { NetworkDefinition } from "../model/network.js";
import { assertNever } from "../model/errors.js";
import { evolve, evolveOwned, type ContainerState, type ContainerStatus } from "./container.js";
import { evolveImages, type ImageRef } from "./images.js";

export interface Projection {
  /** Global position of the last event folded in. */
  position: number;
  /** Live containers (anything not deleted), by id. */
  containers: Record<string, ContainerState>;
  /** Networks by name, once one was ever created (absent in journals and snapshots from before networks). */
  networks?: Record<string, NetworkDefinition>;
  /** Image references by name (projections/images.ts), once an image event was ever journaled. */
  images?: Record<string, ImageRef>;
}

export const emptyProjection = (): Projection => ({ position: 0, containers: {} });

/**
 * Folds one event into the projection (the daemon's hot path) and returns the projection. The
 * container's state is replaced by a new one, never changed: callers may still hold the old.
 */
export function apply(projection: Projection, event: StoredEvent<BerthEvent>): Projection {
  return applyWith(evolve, projection, event);
}

/** apply for a fold that owns the projection and every state in it: states change in place. */
function applyOwned(projection: Projection, event: StoredEvent<BerthEvent>): Projection {
  return applyWith(evolveOwned, projection, event);
}

function applyWith(step: typeof evolve, projection: Projection, event: StoredEvent<BerthEvent>): Projection {
  const id = containerIdOf(event.streamId);
  if (id !== undefined) {
    const next = step(projection.containers[id], event as StoredEvent<ContainerEvent>);
    if (next.status === "deleted") delete projection.containers[id];
    else projection.containers[id] = next;
  } else if (event.streamId === NETWORK_STREAM) {
    projection.networks = evolveNetworks(projection.networks ?? {}, event as StoredEvent<NetworkEvent>);
  } else if (event.streamId === IMAGE_STREAM) {
    projection.images = evolveImages(projection.images ?? {}, event as StoredEvent<ImageEvent>);
  }
  projection.position = event.position;
  return projection;
}

/** The networks after one network event: a new record, so a caller's old one stays as it was. */
function evolveNetworks(networks: Record<string, NetworkDefinition>, event: StoredEvent<NetworkEvent>): Record<string, NetworkDefinition> {
  switch (event.type) {
    case "NetworkCreated":
      return { ...networks, [event.data.name]: event.data };
    case "NetworkRemoved": {
      const { [event.data.name]: _, ...rest } = networks;
      return rest;
    }
    default:
      return assertNever(event);
  }
}

/** Every network, and the containers attached to each (by network name). */
export function networksOf(projection: Projection): Record<string, NetworkDefinition> {
  return projection.networks ?? {};
}

/**
 * The exact images whose blobs and layers must stay: each one a reference names and each one a
 * live container was created from (named or not, as docker keeps a removed image's layers for
 * its containers). The image store's sweep keeps these and frees the rest. `removing` is a
 * reference being removed: its ImageRemoved, journaled before the sweep, names what it frees.
 */
export function imagesInUse(projection: Projection, removing?: string): ImageRef[] {
  const used = Object.entries(projection.images ?? {}).filter(([reference]) => reference !== removing).map(([, image]) => image);
  for (const c of Object.values(projection.containers)) {
    const rootfs = c.config.rootfs;
    if ("image" in rootfs && rootfs.resolved) used.push({ manifest: rootfs.resolved.manifest, config: rootfs.resolved.config });
  }
  return used;
}

/** The live containers attached to `network` now. */
export function attachedTo(projection: Projection, network: string): ContainerState[] {
  return Object.values(projection.containers).filter((c) => c.networks?.[network] !== undefined);
}

/** A new projection: `from` (default empty) with `events` folded in. `from` is not modified. */
export function fold(events: Iterable<StoredEvent>, from: Projection = emptyProjection()): Projection {
  return foldInto(structuredClone(from), events);
}

/**
 * Folds `events` into `projection` in place (the daemon's start-up path: no copy). It takes
 * ownership: the states in `projection` are changed in place, so pass a projection no one
 * else holds (a fresh one, a decoded snapshot, a clone).
 */
export function foldInto(projection: Projection, events: Iterable<StoredEvent>): Projection {
  for (const event of events) applyOwned(projection, event);
  return projection;
}

export interface ListOptions {
  all?: boolean;
  status?: ContainerStatus;
}

/** The list index: live containers (all = including stopped and created), sorted by creation. */
export function listContainers(projection: Projection, options: ListOptions = {}): ContainerState[] {
  return Object.values(projection.containers)
    .filter((c) => (options.status ? c.status === options.status : options.all || c.status === "running" || c.status === "stopping" || c.status === "paused"))
    .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}

/** A source of events by position: the journal, or an imported file. */
export interface EventSource {
  readAll(after?: number): Iterable<StoredEvent>;
}

/** Time travel: the projection as it stood right after `position`. */
export function stateAt(source: EventSource, position: number, snapshot?: Projection): Projection {
  const start = snapshot && snapshot.position <= position ? snapshot : emptyProjection();
  const projection = structuredClone(start);
  for (const event of source.readAll(start.position)) {
    if (event.position > position) break;
    applyOwned(projection, event);
  }
  return projection;
}
