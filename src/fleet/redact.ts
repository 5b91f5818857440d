// Opt-in redaction of environment values in shipped events (`berth daemon --ship-redact-env`,
// docs/fleet.md "Security"). `-e` values are often secrets, and anyone who can read the fleet
// stream can read every body. With redaction on, the shipper publishes the events that carry
// environment values with each value replaced by REDACTED_VALUE (the names stay, so an auditor
// still sees which variables a container had) and the header `Berth-Redacted: env`. Only the
// message changes: the local journal keeps the original bytes, and the message's chain hash
// header is the journal's, so the witness still compares chains; but the redacted body no
// longer hashes to it, and a restore from such a stream is refused (src/fleet/restore.ts).
// Pure: body bytes and type in, bytes out.
import { EVENT_TYPES, type EventOf, type EventType } from "../events/catalogue.js";
import { mapBodyData } from "../events/codec.js";
import { FleetError } from "./nats.js";

/** What every redacted value becomes. */
export const REDACTED_VALUE = "<redacted>";
/** The `Berth-Redacted` header's value on a message whose env values were replaced. */
export const REDACTED_ENV = "env";

type Env = Record<string, string>;
/** Replaces every value of one environment; the redactor calls it on each environment it holds. */
type Mask = (env: Env) => Env;
type Redactor<T extends EventType> = (data: EventOf<T>["data"], mask: Mask) => EventOf<T>["data"];

/**
 * Per event type, the schema version whose payload was last checked for environment values, and
 * for the types that carry some, how to replace them. Every type is named (the compiler checks
 * it), and test/fleet-redact.test.ts fails when an event's schema version moves past the one
 * reviewed here, so a new payload field cannot carry env values out unnoticed.
 */
type Rule<T extends EventType> = { reviewed: number; redact?: Redactor<T> };
const none = (reviewed: number) => ({ reviewed });

const RULES: { [T in EventType]: Rule<T> } = {
  // config.init.env: the image's Env merged with `-e` at create. v1 has the same shape there.
  ContainerCreated: { reviewed: 2, redact: (d, mask) => ({ ...d, config: { ...d.config, init: { ...d.config.init, env: mask(d.config.init.env) } } }) },
  // The environment a bootstrap adds (RuntimeClient.bootstrap's dynamicEnv).
  BootstrapRequested: { reviewed: 1, redact: (d, mask) => ({ ...d, dynamicEnv: mask(d.dynamicEnv) }) },
  // An exec's spec.env (`berth exec -e`).
  ProcessCreated: { reviewed: 1, redact: (d, mask) => ({ ...d, spec: { ...d.spec, env: mask(d.spec.env) } }) },
  ContainerBooted: none(1),
  BootstrapFailed: none(1),
  ProcessStartRequested: none(1),
  ProcessStarted: none(1),
  ProcessStartFailed: none(1),
  SignalSent: none(1),
  ProcessExited: none(2),
  StopRequested: none(1),
  ContainerStopped: none(1),
  ShutdownRequested: none(1),
  ContainerShutdown: none(1),
  ContainerDeleted: none(1),
  ContainerLost: none(1),
  RestartScheduled: none(1),
  PauseRequested: none(1),
  ContainerPaused: none(1),
  UnpauseRequested: none(1),
  ContainerUnpaused: none(1),
  ProcessAttached: none(1),
  ProcessDetached: none(1),
  ContainerRenamed: none(1),
  DaemonRecovered: none(1),
  OrphanFound: none(1),
  OrphanRemoved: none(1),
  JournalLossAccepted: none(1),
  ImagePulled: none(1),
  ImageLoaded: none(1),
  ImageTagged: none(1),
  ImageRemoved: none(1),
  NetworkCreated: none(1),
  NetworkRemoved: none(1),
  NetworkAttached: none(1),
  NetworkDetached: none(1),
};

/** The schema version each type was reviewed at, for the test that keeps RULES honest. */
export const REVIEWED: Readonly<Record<EventType, number>> = Object.fromEntries(EVENT_TYPES.map((t) => [t, RULES[t].reviewed])) as Record<EventType, number>;

/** The types whose bodies can carry environment values. */
export const ENV_TYPES: readonly EventType[] = EVENT_TYPES.filter((t) => RULES[t].redact !== undefined);

export type Redaction = { redacted: false; body: Buffer } | { redacted: true; body: Buffer; header: typeof REDACTED_ENV };

/**
 * The body to ship for a row of `type`: the stored bytes themselves for an event without env
 * values (or with an empty environment), else the body re-encoded with every value replaced.
 * A type or schema version this module was not written for refuses (a fatal fault for the
 * shipper) rather than ship values it might not redact.
 */
export function redactEnvBody(type: string, schemaVersion: number, body: Buffer): Redaction {
  const rule = RULES[type as EventType] as Rule<EventType> | undefined;
  if (!rule) throw new FleetError("redacted", `cannot redact an event of unknown type ${type}: refusing to ship it unredacted`);
  // Older versions hold their env values where the reviewed one does (ContainerCreated v1 and v2).
  if (schemaVersion > rule.reviewed) {
    throw new FleetError("redacted", `cannot redact ${type} at schema version ${schemaVersion}: redaction knows it up to version ${rule.reviewed}; refusing to ship it unredacted`);
  }
  const redact = rule.redact;
  if (!redact) return { redacted: false, body };
  let replaced = 0;
  const mask: Mask = (env) => {
    // Bodies are validated at append, but this guards what leaves the node: never pass on an
    // environment it cannot see into.
    if (env === undefined || env === null) return env;
    if (typeof env !== "object" || Array.isArray(env)) throw new Error(`its environment is not a map (${typeof env})`);
    const out: Env = {};
    for (const name of Object.keys(env)) out[name] = REDACTED_VALUE;
    replaced += Object.keys(out).length;
    return out;
  };
  let out: Buffer;
  try {
    out = mapBodyData(body, (data) => redact(data as never, mask));
  } catch (err) {
    throw new FleetError("redacted", `cannot redact ${type}: ${(err as Error).message}; refusing to ship it unredacted`);
  }
  return replaced === 0 ? { redacted: false, body } : { redacted: true, body: out, header: REDACTED_ENV };
}
