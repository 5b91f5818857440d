// The NATS edge: connecting, the fleet stream, the node claims bucket, and reading one node's
// messages back. Nothing else in berth imports a NATS package (but credentials.ts, which checks
// nkey seeds with the client's own nkeys). Every failure leaves here as a
// FleetError: a BerthError whose `fault` says what went wrong in words a test can match.
import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, DeliverPolicy, type JetStreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { jwtAuthenticator, nkeyAuthenticator, type Authenticator, type NatsConnection } from "@nats-io/nats-core";
import { BerthError, type ErrorCode } from "../model/errors.js";
import { parseCredsFile, parseSeedFile } from "./credentials.js";
import { rowOf, type ShippedRow } from "./message.js";
import { CLAIMS_BUCKET, escapeToken, nodeFilter, STREAM_NAME, SUBJECT_ROOT } from "./subject.js";

export type FleetFault =
  | "unreachable" // no server answered
  | "auth" // the server refused the credentials
  | "credentials" // a local nkey seed or .creds file is missing, unreadable or malformed
  | "nodeClaimed" // another journal holds the node name
  | "otherNode" // the node's messages in the stream carry another journal's node id
  | "forked" // the stream's last chain hash for the node is not the local one there
  | "localTailLost" // the stream has positions the local journal lacks
  | "badHash" // a message's chain hash does not follow from the one before it
  | "gap" // a message was refused while a later one was stored
  | "refused" // the stream refused a message (limits, permissions, wrong last sequence)
  | "redacted" // a message's env values were redacted (--ship-redact-env), or could not be: no restore, no shipping
  | "protocol"; // anything else the client raised

const CODES: Record<FleetFault, ErrorCode> = {
  unreachable: "timeout",
  auth: "invalidArgument",
  credentials: "invalidArgument",
  nodeClaimed: "exists",
  otherNode: "exists",
  forked: "invalidState",
  localTailLost: "invalidState",
  badHash: "invalidState",
  gap: "invalidState",
  refused: "internalError",
  redacted: "unsupported",
  protocol: "internalError",
};

/** Faults that a reconnect cannot cure: the shipper stops and says so in `journal stats`. */
export const FATAL: ReadonlySet<FleetFault> = new Set(["nodeClaimed", "otherNode", "forked", "localTailLost", "badHash", "gap", "auth", "credentials", "redacted"]);

export class FleetError extends BerthError {
  constructor(readonly fault: FleetFault, message: string) {
    super(CODES[fault], message);
  }
}

export interface FleetTarget {
  /** nats://host:port, several separated by commas. */
  servers: string;
  /** Credentials, when the server wants them (also accepted inside the URL as user:pass@). */
  user?: string;
  pass?: string;
  token?: string;
  /** TLS: a CA file to trust (a self-signed server); with it, or a tls:// URL, the connection must be TLS. */
  tlsCa?: string;
  /** A file holding the user's nkey seed (SU...): the server challenges, the seed signs. */
  nkey?: string;
  /** A NATS .creds file (a user JWT and its seed): operator/JWT mode. */
  creds?: string;
}

export function parseServers(servers: string): string[] {
  const list = servers.split(",").map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new BerthError("invalidArgument", "no NATS server given: expected nats://HOST:PORT[,nats://HOST:PORT...]");
  for (const s of list) {
    if (!/^(nats|tls):\/\/[^/\s]+$/.test(s)) throw new BerthError("invalidArgument", `${s} is not a NATS server address: expected nats://HOST:PORT or tls://HOST:PORT`);
  }
  return list;
}

/** Turns what the client raised into a FleetError; `context` says what berth was doing. */
export function toFleetError(err: unknown, context: string): FleetError {
  if (err instanceof FleetError) return err;
  const e = err as { name?: string; message?: string; code?: string };
  const message = e?.message ?? String(err);
  if (/authoriz|authentic|permissions? violation/i.test(message) || e?.name === "AuthorizationError") return new FleetError("auth", `${context}: the server refused the credentials (${message})`);
  if (e?.code === "ECONNREFUSED" || /ECONNREFUSED|connection refused|could not connect|ENOTFOUND|timeout|CONNECTION_REFUSED/i.test(`${message} ${e?.code ?? ""} ${e?.name ?? ""}`)) {
    return new FleetError("unreachable", `${context}: no NATS server answered (${message})`);
  }
  return new FleetError("protocol", `${context}: ${message}`);
}

/**
 * The nkey or JWT authenticator of `target`, read from its files now (each connect reads them
 * again, so a rotated file is picked up). A missing, unreadable or malformed file is refused
 * here, naming it: the fault "credentials", before any server is asked.
 */
export function keyAuthenticator(target: FleetTarget): Authenticator | undefined {
  if (target.nkey !== undefined && target.creds !== undefined) throw new FleetError("credentials", "give an nkey seed file or a .creds file, not both: a .creds file holds its own seed");
  const file = target.nkey ?? target.creds;
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new FleetError("credentials", `cannot read the NATS ${target.nkey !== undefined ? "nkey seed" : "credentials"} file ${file}: ${(err as Error).message}`);
  }
  const parsed = target.nkey !== undefined ? parseSeedFile(text, file) : parseCredsFile(text, file);
  if (!parsed.ok) throw new FleetError("credentials", parsed.message);
  const { auth } = parsed;
  return auth.kind === "nkey" ? nkeyAuthenticator(auth.seed) : jwtAuthenticator(auth.jwt, auth.seed);
}

export async function openConnection(target: FleetTarget, name: string): Promise<NatsConnection> {
  const servers = parseServers(target.servers);
  const authenticator = keyAuthenticator(target);
  try {
    return await connect({
      servers,
      name,
      // The shipper owns reconnecting (with its own backoff and a fresh resume check each time).
      reconnect: false,
      timeout: 3000,
      // An Error with a stack for every request, made in case it fails, was a fifth of the
      // shipper's CPU (bench/ship.ts); failures carry their own message.
      noAsyncTraces: true,
      user: target.user,
      pass: target.pass,
      token: target.token,
      ...(authenticator ? { authenticator } : {}),
      // A tls:// server, or a CA to trust, means TLS or nothing.
      ...(target.tlsCa ? { tls: { caFile: target.tlsCa } } : servers.some((s) => s.startsWith("tls://")) ? { tls: {} } : {}),
    });
  } catch (err) {
    throw toFleetError(err, `cannot connect to ${servers.join(",")}`);
  }
}

export interface Fleet {
  nc: NatsConnection;
  jsm: JetStreamManager;
  js: JetStreamClient;
}

export async function openFleet(target: FleetTarget, name: string): Promise<Fleet> {
  const nc = await openConnection(target, name);
  try {
    const jsm = await jetstreamManager(nc);
    return { nc, jsm, js: jetstream(nc, { timeout: 10_000 }) };
  } catch (err) {
    await nc.close().catch(() => {});
    throw toFleetError(err, "JetStream is not available on the server (is it started with -js?)");
  }
}

const notFound = (err: unknown) => /not found|no message found|10037|10059/i.test(`${(err as Error)?.message} ${(err as { code?: unknown })?.code}`);

/**
 * The fleet stream, made with the server's defaults when missing (docs/fleet.md, "Retention").
 * Returns its replica count, which the claims bucket gets too.
 */
export async function ensureStream(jsm: JetStreamManager): Promise<number> {
  try {
    return (await jsm.streams.info(STREAM_NAME)).config.num_replicas;
  } catch (err) {
    if (!notFound(err)) throw toFleetError(err, `cannot read stream ${STREAM_NAME}`);
    await jsm.streams.add({ name: STREAM_NAME, subjects: [`${SUBJECT_ROOT}.>`] }).catch((e) => {
      // Another node made it in the meantime.
      if (!/already in use|exists/i.test((e as Error).message)) throw toFleetError(e, `cannot create stream ${STREAM_NAME}`);
    });
    return 1;
  }
}

/**
 * Claims `node` for this journal's UUID, or refuses: another journal holds the name. The
 * bucket, when this makes it, has the stream's replicas: the claims are as durable as the stream.
 */
export async function claimNode(fleet: Fleet, node: string, nodeId: string, replicas = 1): Promise<void> {
  const kv = await new Kvm(fleet.nc).create(CLAIMS_BUCKET, { replicas }).catch((e) => {
    throw toFleetError(e, `cannot open the node claims bucket ${CLAIMS_BUCKET}`);
  });
  const key = escapeToken(node);
  try {
    await kv.create(key, new TextEncoder().encode(nodeId));
    return;
  } catch (err) {
    if (!/wrong last sequence|exists/i.test((err as Error).message)) throw toFleetError(err, `cannot claim node ${node}`);
  }
  const holder = (await kv.get(key))?.string();
  if (holder !== nodeId) {
    throw new FleetError("nodeClaimed", `node name ${node} is claimed by journal ${holder} and this journal is ${nodeId}: a cloned machine or an older copy of a journal? Give this node another --node name, or restore the node's journal with \`berth journal restore\``);
  }
}

/** The node's last message in the stream, or undefined when it has none. */
export async function lastOfNode(jsm: JetStreamManager, node: string): Promise<ShippedRow | undefined> {
  try {
    const m = await jsm.streams.getMessage(STREAM_NAME, { last_by_subj: nodeFilter(node) });
    return m ? rowOf(m) : undefined;
  } catch (err) {
    if (notFound(err)) return undefined;
    throw toFleetError(err, `cannot read node ${node}'s last message`);
  }
}

/** The stream sequence of the last message on one subject, 0 when there is none. */
export async function lastSubjectSeq(jsm: JetStreamManager, subject: string): Promise<number> {
  try {
    const m = await jsm.streams.getMessage(STREAM_NAME, { last_by_subj: subject });
    return m?.seq ?? 0;
  } catch (err) {
    if (notFound(err)) return 0;
    throw toFleetError(err, `cannot read the last message on ${subject}`);
  }
}

/**
 * An ordered consumer on `filter`. Its creation is retried on a timeout: a cluster that just lost
 * a server answers only once it has elected a new leader, which can take longer than one request.
 */
async function orderedConsumer(fleet: Fleet, filter: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fleet.js.consumers.get(STREAM_NAME, { filter_subjects: filter, deliver_policy: DeliverPolicy.All });
    } catch (err) {
      if (attempt >= CONSUMER_ATTEMPTS || !/timeout/i.test(`${(err as Error).message} ${(err as Error).name}`)) throw err;
    }
  }
}

const CONSUMER_ATTEMPTS = 4;

/** Every message of one node, in stream order, through an ordered consumer; ends at the node's last one. */
export async function* readNode(fleet: Fleet, node: string): AsyncGenerator<ShippedRow> {
  yield* readSubjects(fleet, nodeFilter(node), false);
}

/**
 * Every message on `filter` (wildcards allowed), in stream order, through one ordered consumer:
 * the backlog, and with `follow` the live tail after it, so the hand-over has no gap and no
 * duplicate. Without `follow` it ends at the filter's last message as of the call.
 */
export async function* readSubjects(fleet: Fleet, filter: string, follow: boolean, onCancel?: (cancel: () => void) => void): AsyncGenerator<ShippedRow> {
  const lastSeq = follow ? Infinity : await lastSubjectSeq(fleet.jsm, filter);
  if (lastSeq === 0) return;
  const consumer = await orderedConsumer(fleet, filter);
  const messages = await consumer.consume({ max_messages: 512 });
  onCancel?.(() => void messages.close());
  try {
    for await (const m of messages) {
      yield rowOf(m);
      if (m.seq >= lastSeq) break;
    }
  } finally {
    await messages.close().catch(() => {});
  }
}
