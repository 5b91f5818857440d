// `berth journal verify|export|import|restore|replay|stats`: work on the journal file itself, read-only
// while a daemon runs (WAL lets readers in). Replay folds an exported file into projections
// without running any effect: no daemon, no runtime service, no runc.
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJournal, importJournal } from "../../events/archive.js";
import type { Journal } from "../../events/journal.js";
import type { VerifyResult } from "../../events/verify.js";
import { describeLoss, findJournalLoss } from "../../events/witness.js";
import { rootWitnesses } from "../../daemon/journal-loss.js";
import { verifySnapshots } from "../../daemon/snapshot-check.js";
import { BerthError } from "../../model/errors.js";
import { journalPath } from "../../host/root-layout.js";
import { stateAt } from "../../projections/index.js";
import { iso, parseFormat, parseTime, table } from "../format.js";
import { inspectOf, statusText } from "../inspect.js";
import { daemonJournalFault, faultLine } from "../journal-fault.js";
import { shipLine, shipping } from "../../fleet/ship-report.js";
import { fleetFlags, restore, verifyWitness, type FleetFlags } from "../fleet-journal.js";
import { out } from "../output.js";
import type { CommandGroup } from "./command.js";

export const command: CommandGroup = {
  kind: "group",
  name: "journal",
  description: "verify, export, import, restore, replay and measure the journal",
  examples: ["berth journal verify", "berth journal export /tmp/j.berth", "berth journal replay /tmp/j.berth --at 42 --format json"],
  subcommands: [
    {
      kind: "command",
      name: "verify",
      description: "recompute the hash chain, check it against the exit acks under the root, and compare every snapshot with a re-fold: exit 0 with the head hash, or 1 naming the first bad position",
      format: true,
      examples: ["berth journal verify", "berth journal verify --witness nats://10.0.0.5:4222 --node web-1"],
      flags: (cmd) => fleetFlags(cmd.option("--witness <urls>", "also compare the chain with what this node shipped to the fleet stream at nats://HOST:PORT (see docs/fleet.md)")),
      action: (s, o) => verify(s.root, o),
    },
    {
      kind: "command",
      name: "export",
      description: "write the whole journal to FILE",
      examples: ["berth journal export /tmp/j.berth"],
      flags: (cmd) => cmd.argument("<file>", "output file"),
      action: (s, _o, args) => exportTo(s.root, args[0]!),
    },
    {
      kind: "command",
      name: "import",
      description: "load an exported FILE into a fresh root (its journal must be empty)",
      examples: ["berth --root /tmp/copy journal import /tmp/j.berth"],
      flags: (cmd) => cmd.argument("<file>", "exported file"),
      action: (s, _o, args) => importFrom(s.root, args[0]!),
    },
    {
      kind: "command",
      name: "restore",
      description: "rebuild a node's journal in a fresh root from the fleet stream: the same positions, bodies and chain hashes",
      examples: ["berth journal restore --from nats://10.0.0.5:4222 --node web-1 --root /var/lib/berth-restored"],
      flags: (cmd) => fleetFlags(cmd.option("--from <urls>", "the NATS server(s) holding the fleet stream, nats://HOST:PORT[,...]")),
      action: (s, o) => restore(s.root, o.from as string | undefined, o),
    },
    {
      kind: "command",
      name: "replay",
      description: "print the containers' projected state at a point of an exported FILE, without running any effect",
      format: true,
      examples: ["berth journal replay /tmp/j.berth", "berth journal replay /tmp/j.berth --at 42 --format json", "berth journal replay /tmp/j.berth --at 2024-05-01T12:00:00Z"],
      flags: (cmd) => cmd
        .option("--at <pos|time>", "a position (42 or @42) or a time (RFC 3339, or a duration ago); default: the end")
        .option("-a, --all", "include deleted containers")
        .argument("<file>", "exported file"),
      action: (_s, o, args) => replay(args[0]!, o),
    },
    {
      kind: "command",
      name: "stats",
      description: "event counts by type, file size and head position",
      format: true,
      examples: ["berth journal stats"],
      action: (s, o) => stats(s.root, o),
    },
  ],
};

/**
 * The journal engine (kysely, ~0.5 MB of the bundle) loads when a journal command runs, not
 * when `berth --help` or `--version` loads every command module to declare it.
 */
const openJournal: typeof Journal.open = async (...args) => (await import("../../events/journal.js")).Journal.open(...args);

async function openReadonly(root: string): Promise<Journal> {
  const file = journalPath(root);
  try {
    statSync(file);
  } catch {
    throw new BerthError("notFound", `no journal at ${file}: is --root (or BERTH_ROOT) the daemon's root?`);
  }
  return openJournal(file, { readonly: true });
}

/**
 * Exit 0 with the head hash, or exit 1 naming the first bad position: of the chain, of a loss
 * the witnesses under the root prove (exit acks), or of a snapshot that is not the fold.
 */
export async function verify(root: string, flags: { format?: string; witness?: string } & FleetFlags): Promise<number> {
  const format = parseFormat(flags.format);
  // A daemon whose journal file was deleted or replaced knows more than the file at the path.
  const lost = await daemonJournalFault(root);
  if (lost) {
    if (format === "json") out(JSON.stringify({ ok: false, daemon: lost }));
    else process.stderr.write(`journal verify failed: the daemon (pid ${lost.pid}) refuses commands: ${faultLine(lost.fault)}\n`);
    return 1;
  }
  const journal = await openReadonly(root);
  try {
    const result = checkAll(journal, root);
    if (result.ok && flags.witness) return await verifyWitness(root, journal, flags.witness, flags, format);
    if (format === "json") out(JSON.stringify(result));
    else if (result.ok) {
      out(`journal ok: ${result.count} events, head position ${result.head.position}, hash ${result.head.hash}`);
      for (const l of result.losses ?? []) out(`accepted loss at position ${l.position}: acknowledged positions ${l.from}..${l.to} are gone`);
    } else process.stderr.write(`journal verify failed at position ${result.position}: ${result.reason}\n`);
    return result.ok ? 0 : 1;
  } finally {
    journal.close();
  }
}

function checkAll(journal: Journal, root: string): VerifyResult & { snapshot?: string } {
  const chain = journal.verify();
  if (!chain.ok) return chain;
  const loss = findJournalLoss(journal, rootWitnesses(root));
  if (loss) return { ok: false, position: loss.from, reason: describeLoss(loss) };
  const [bad] = verifySnapshots(journal);
  if (bad) return { ok: false, position: bad.position, reason: bad.reason, snapshot: bad.name };
  return chain;
}

export async function exportTo(root: string, file: string): Promise<number> {
  const journal = await openReadonly(root);
  try {
    const r = exportJournal(journal, file);
    out(`exported ${r.count} events to ${file}: head position ${r.head.position}, hash ${r.head.hash}`);
    return 0;
  } finally {
    journal.close();
  }
}

/** Into a fresh root only: the journal there must be empty (and no daemon may own it). */
export async function importFrom(root: string, file: string): Promise<number> {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const journal = await openJournal(journalPath(root));
  try {
    const r = importJournal(journal, file);
    out(`imported ${r.count} events into ${journalPath(root)}: head position ${r.head.position}, hash ${r.head.hash}`);
    return 0;
  } finally {
    journal.close();
  }
}

/** "--at 42" or "@42" is a position; anything else a time (the last event at or before it). */
function resolveAt(journal: Journal, at: string | undefined): number {
  const head = journal.head().position;
  if (at === undefined) return head;
  const pos = /^@?\d+$/.test(at) ? Number(at.replace("@", "")) : undefined;
  if (pos !== undefined) {
    if (pos > head) throw new BerthError("invalidArgument", `--at ${at} is past the end of the journal (head position ${head})`);
    return pos;
  }
  const time = parseTime(at);
  return journal.lastPositionAt(time);
}

export async function replay(file: string, flags: { at?: string; format?: string; all?: boolean }): Promise<number> {
  const format = parseFormat(flags.format);
  // The export is imported into a scratch journal (which re-verifies the chain), then folded.
  const scratch = mkdtempSync(join(tmpdir(), "berth-replay-"));
  try {
    const journal = await openJournal(join(scratch, "journal.db"), { sync: "normal" });
    try {
      importJournal(journal, file);
      const position = resolveAt(journal, flags.at);
      const projection = stateAt(journal, position);
      const containers = Object.values(projection.containers)
        .filter((c) => flags.all || c.status !== "deleted")
        .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
      if (format === "json") {
        out(JSON.stringify({ position, containers: containers.map(inspectOf) }, null, 2));
      } else {
        out(`state at position ${position} of ${journal.head().position}`);
        out(table(["CONTAINER ID", "STATUS", "PID", "STARTED", "FINISHED", "RESTARTS"], containers.map((c) => [
          c.id, statusText(c), c.pid !== undefined && c.status === "running" ? String(c.pid) : "", iso(c.startedAt) ?? "", iso(c.finishedAt) ?? "", String(c.restartCount),
        ])));
      }
      return 0;
    } finally {
      journal.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export async function stats(root: string, flags: { format?: string }): Promise<number> {
  const format = parseFormat(flags.format);
  const journal = await openReadonly(root);
  try {
    const { events, firstTime, lastTime, byType } = journal.stats();
    const size = (f: string) => {
      try {
        return statSync(f).size;
      } catch {
        // No -wal / -shm file (checkpointed or never written): it takes no space.
        return 0;
      }
    };
    const file = journalPath(root);
    const report = {
      file,
      fileBytes: size(file),
      walBytes: size(`${file}-wal`),
      events,
      head: journal.head(),
      firstEventAt: iso(firstTime),
      lastEventAt: iso(lastTime),
      byType: Object.fromEntries(byType.map((r) => [r.type, r.count])),
      ship: shipping(root, journal),
    };
    if (format === "json") out(JSON.stringify(report, null, 2));
    else {
      out(`journal ${file}: ${report.fileBytes} bytes (+ ${report.walBytes} bytes WAL)`);
      out(`events: ${report.events}, head position ${report.head.position}, hash ${report.head.hash || "-"}`);
      out(`span: ${report.firstEventAt ?? "-"} .. ${report.lastEventAt ?? "-"}`);
      if (report.ship) out(shipLine(report.ship));
      out(table(["TYPE", "COUNT"], byType.map((r) => [r.type, String(r.count)])));
    }
    return 0;
  } finally {
    journal.close();
  }
}

