// Is a stored projection snapshot what the journal folds to? Two depths:
// - at daemon start, each container in the snapshot is compared with a fold of its own stream
//   up to the snapshot's position: cost in proportion to the live containers' histories, not
//   the journal's, and it catches a forged config, command, status or runtime of any container
//   the snapshot holds (not one the snapshot leaves out: that is verify's to find);
// - `berth journal verify` re-folds the whole journal and compares every stored snapshot with
//   the fold at its position.
// The load checks that need no fold (digest, position and chain hash) are src/events/snapshot.ts.
import { containerStream, IMAGE_STREAM } from "../events/catalogue.js";
import type { Journal } from "../events/journal.js";
import { openSnapshot } from "../events/snapshot.js";
import { emptyProjection, foldInto, type Projection } from "../projections/index.js";

/**
 * The first path at which two values differ, or undefined. An absent key equals undefined, and
 * undefined equals null: msgpack keeps an undefined in an object but makes it nil in an array.
 */
export function firstDifference(a: unknown, b: unknown, path = ""): string | undefined {
  if (Object.is(a, b) || (a == null && b == null)) return undefined;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return path || "(the whole value)";
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return `${path}.length`;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const key of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
    const diff = firstDifference(ra[key], rb[key], path ? `${path}.${key}` : key);
    if (diff) return diff;
  }
  return undefined;
}

/** Why a decoded snapshot cannot be a projection at `position`, or undefined. */
function shapeProblem(state: unknown, position: number): string | undefined {
  const p = state as Partial<Projection> | null;
  if (typeof p !== "object" || p === null || typeof p.containers !== "object" || p.containers === null) return "its body is not a projection";
  if (p.position !== position) return `its body says position ${String(p.position)}, its row ${position}`;
  return undefined;
}

/**
 * A snapshot written before ContainerState had `createdBy`, or before the projection held image
 * references, lacks them: take them from the fold it is compared with, in place, so the
 * daemon's projection has them from then on (the next snapshot stores them). Only an absent
 * field is filled: a forged one still differs.
 */
function fillAbsent(snapshot: Projection, folded: Projection): void {
  for (const [id, container] of Object.entries(snapshot.containers)) {
    const createdBy = folded.containers[id]?.createdBy;
    if (container && typeof container === "object" && container.createdBy === undefined && createdBy) container.createdBy = createdBy;
  }
  if (snapshot.images === undefined && folded.images !== undefined) snapshot.images = folded.images;
}

/** The daemon's check at start (see the top of this file): undefined when the snapshot holds. */
export function checkSnapshotStreams(journal: Journal, state: unknown, position: number): string | undefined {
  const shape = shapeProblem(state, position);
  if (shape) return shape;
  for (const [id, container] of Object.entries((state as Projection).containers)) {
    const events = journal.readStream(containerStream(id)).filter((e) => e.position <= position);
    const fold = foldInto(emptyProjection(), events);
    fillAbsent({ position, containers: { [id]: container } }, fold);
    const folded = fold.containers[id];
    const diff = firstDifference(container, folded);
    if (diff) return `container ${id} differs from the journal's fold of its stream at containers.${id}${diff === "(the whole value)" ? "" : `.${diff}`}`;
  }
  // The image references: the image stream is short (one event per pull, tag or rm).
  const snapshot = state as Projection;
  const images = foldInto(emptyProjection(), journal.readStream(IMAGE_STREAM).filter((e) => e.position <= position));
  fillAbsent(snapshot, images);
  const diff = firstDifference(snapshot.images, images.images);
  if (diff) return `the image references differ from the journal's fold of the image stream at images${diff === "(the whole value)" ? "" : `.${diff}`}`;
  return undefined;
}

export interface SnapshotProblem {
  name: string;
  position: number;
  reason: string;
}

/**
 * Every stored snapshot checked (load checks, then the whole projection against a fold of the
 * journal at its position), in position order; one fold for all of them.
 */
export function verifySnapshots(journal: Journal): SnapshotProblem[] {
  const problems: SnapshotProblem[] = [];
  const rows = journal.snapshotRows();
  if (rows.length === 0) return problems;
  const head = journal.head().position;
  const projection = emptyProjection();
  const events = journal.readAll()[Symbol.iterator]();
  let pending = events.next();
  for (const row of rows) {
    const opened = openSnapshot<Projection>(row, journal.hashAt(row.position), head);
    if (!opened.ok) {
      problems.push({ name: row.name, position: row.position, reason: opened.reason });
      continue;
    }
    while (!pending.done && pending.value.position <= row.position) {
      foldInto(projection, [pending.value]);
      pending = events.next();
    }
    const shape = shapeProblem(opened.state, row.position);
    if (!shape) fillAbsent(opened.state, projection);
    const diff = shape ? undefined : firstDifference(opened.state, projection);
    if (shape || diff) problems.push({ name: row.name, position: row.position, reason: `snapshot ${JSON.stringify(row.name)} (position ${row.position}) ${shape ?? `differs from the journal's fold at ${diff}`}` });
  }
  return problems;
}
