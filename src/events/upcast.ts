// Upcasting: old stored shapes are translated to the current one on read. Stored events are
// never rewritten, so the hash chain keeps covering the bytes that were originally written.
import { SCHEMA_VERSIONS, type EventType } from "./catalogue.js";

/** Turns the payload of `type` at schema version `from` into version `from + 1`. */
export type Upcaster = (data: any) => any;

const registry = new Map<string, Upcaster>();
const key = (type: string, from: number) => `${type}@${from}`;

export function registerUpcaster(type: EventType, from: number, upcaster: Upcaster): void {
  registry.set(key(type, from), upcaster);
}

/** Applies upcasters one version at a time until the payload has the current shape. */
export function upcast(type: string, schemaVersion: number, data: unknown): unknown {
  const current = SCHEMA_VERSIONS[type as EventType];
  if (current === schemaVersion) return data; // the common case: nothing to translate
  if (current === undefined) throw new Error(`unknown event type ${type}`);
  let value = data;
  for (let v = schemaVersion; v < current; v++) {
    const step = registry.get(key(type, v));
    if (!step) throw new Error(`no upcaster for ${type} from schema version ${v} to ${v + 1}`);
    value = step(value);
  }
  return value;
}

// ProcessExited v1 stored exitedAt as an RFC 3339 string and had no signal or oomKilled fields.
registerUpcaster("ProcessExited", 1, (d: { processId: string; pid: number; exitCode: number; exitedAt: string }) => ({
  processId: d.processId,
  pid: d.pid,
  exitCode: d.exitCode,
  exitedAt: Date.parse(d.exitedAt),
  oomKilled: false,
}));

// ContainerCreated v2 added config.volumes and config.healthcheck, the image's, recorded at
// create. Both are optional and a v1 config has neither, so a v1 payload is a v2 payload as it
// stands: the step is the identity, and the version says which configs could carry them.
registerUpcaster("ContainerCreated", 1, (d: unknown) => d);
