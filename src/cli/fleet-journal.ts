// The CLI's side of the fleet stream (docs/fleet.md): `berth journal restore --from`, `berth
// journal verify --witness`, and the readers behind `events --fleet` and `history --fleet`. The
// NATS client loads only when one of them runs.
import type { Command } from "commander";
import { hostname } from "node:os";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import type { Journal } from "../events/journal.js";
import type { FleetTarget } from "../fleet/nats.js";
import { journalPath } from "../host/root-layout.js";
import { BerthError } from "../model/errors.js";
import { out } from "./output.js";

export interface FleetFlags {
  node?: string;
  shipUser?: string;
  shipPassword?: string;
  shipToken?: string;
  shipCa?: string;
  shipNkey?: string;
  shipCreds?: string;
}

/** The node and the credentials of the fleet stream, as `berth daemon --ship` takes them. */
export function fleetFlags(cmd: Command, node = "the node's name in the fleet stream (verify: default the name this root ships under, else the hostname)"): Command {
  return cmd
    .option("--node <name>", node)
    .option("--ship-user <user>", "NATS user name")
    .option("--ship-password <password>", "NATS password")
    .option("--ship-token <token>", "NATS token")
    .option("--ship-ca <file>", "CA certificate that signs the NATS server's TLS certificate")
    .option("--ship-nkey <file>", "a file holding the NATS user's nkey seed (SU...)")
    .option("--ship-creds <file>", "a NATS .creds file (user JWT and seed, as nsc writes it)");
}

export const targetOf = (servers: string, f: FleetFlags): FleetTarget => ({ servers, user: f.shipUser, pass: f.shipPassword, token: f.shipToken, tlsCa: f.shipCa, nkey: f.shipNkey, creds: f.shipCreds });

/** The node whose history the witness reads: --node, else the name this root last shipped under, else the hostname. */
async function nodeOf(root: string, flags: FleetFlags): Promise<string> {
  if (flags.node) return flags.node;
  const { readShipStatus } = await import("../fleet/status.js");
  return readShipStatus(root)?.node ?? hostname();
}

export async function restore(root: string, from: string | undefined, flags: FleetFlags): Promise<number> {
  if (!from) throw new BerthError("invalidArgument", "journal restore needs --from nats://HOST:PORT");
  if (!flags.node) throw new BerthError("invalidArgument", "journal restore needs --node NAME: the node whose journal to rebuild");
  const { Journal } = await import("../events/journal.js");
  const { restoreFromFleet } = await import("../fleet/restore.js");
  const fresh = { root: !existsSync(root), journal: !existsSync(journalPath(root)) };
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const journal = await Journal.open(journalPath(root));
  let r: Awaited<ReturnType<typeof restoreFromFleet>>;
  try {
    r = await restoreFromFleet(journal, targetOf(from, flags), flags.node);
  } catch (err) {
    journal.close();
    // A refused restore leaves nothing behind: no empty journal that a daemon would start on.
    if (fresh.journal) for (const suffix of ["", "-wal", "-shm", ".lock", ".owner"]) rmSync(`${journalPath(root)}${suffix}`, { force: true });
    if (fresh.root) rmSync(root, { recursive: true, force: true });
    throw err;
  }
  journal.close();
  out(`restored ${r.count} events of node ${flags.node} (journal ${r.nodeId}) into ${journalPath(root)}: head position ${r.head.position}, hash ${r.head.hash}`);
  return 0;
}

/** After the local checks passed: the chain against what the node shipped. Exit 1 names the first differing position. */
export async function verifyWitness(root: string, journal: Journal, witness: string, flags: FleetFlags, format: string): Promise<number> {
  const { compareWithFleet } = await import("../fleet/restore.js");
  const node = await nodeOf(root, flags);
  const r = await compareWithFleet(journal, targetOf(witness, flags), node);
  if (format === "json") out(JSON.stringify({ witness: { node, ...r } }));
  else if (r.ok) out(`witness ok: node ${node} shipped ${r.shipped} events up to position ${r.upTo}, all equal to the local chain; ${r.unshipped} positions not shipped yet${r.redacted ? `; ${r.redacted} were shipped with env values redacted: their chain hashes match, their bodies cannot be checked against the hashes` : ""}`);
  else process.stderr.write(`journal verify --witness failed at position ${r.position}: ${r.reason}\n`);
  return r.ok ? 0 : 1;
}

/** The fleet's events as `readEvents` gives the journal's: for `events --fleet` and `history --fleet`. */
export async function* readFleet(servers: string, flags: FleetFlags, q: import("./read-events.js").EventsQuery, onCancel?: (cancel: () => void) => void): AsyncGenerator<import("../fleet/read.js").FleetEvent> {
  const { fleetEvents } = await import("../fleet/read.js");
  yield* fleetEvents(targetOf(servers, flags), { ...q, node: flags.node }, onCancel);
}
