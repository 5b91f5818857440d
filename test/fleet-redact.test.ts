// Issue #17, opt-in redaction of env values in shipped events (`berth daemon --ship-redact-env`,
// docs/fleet.md "Security"). The pure redaction first: exactly the event types that carry
// environments, names kept, values replaced, everything else as stored. Then a real daemon
// shipping to a real nats-server -js: no value reaches the stream, the header marks exactly the
// redacted messages, the journal keeps the values, the witness still says ok, and a restore
// from the redacted stream is refused with its own typed error and writes nothing.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { EVENT_TYPES, SCHEMA_VERSIONS, type StoredEvent } from "../src/events/catalogue.js";
import { packBody, unpackBody } from "../src/events/codec.js";
import { chainHash, GENESIS_HASH } from "../src/events/hash.js";
import { Journal, type StoredRow } from "../src/events/journal.js";
import { toStoredEvent } from "../src/events/journal-read.js";
import { FleetError, openFleet } from "../src/fleet/nats.js";
import { ENV_TYPES, REDACTED_VALUE, REVIEWED, redactEnvBody } from "../src/fleet/redact.js";
import { restoreFromFleet } from "../src/fleet/restore.js";
import { STREAM_NAME } from "../src/fleet/subject.js";
import { journalPath } from "../src/host/root-layout.js";
import { berth, ensureBuilt } from "./helpers/cli-env.js";
import { tempRoot, withDaemon } from "./helpers/daemon.js";
import { journalRows, shippingDaemon, streamRows, waitShipped } from "./helpers/fleet.js";
import { startNats, type NatsServer } from "./helpers/nats.js";
import { onSqliteFile } from "./helpers/sqlite-file.js";
import { tempDir } from "./helpers/tmp.js";

const SECRET = "hunter2";
const body = (data: unknown, schemaVersion = 1) => packBody({ eventId: "e1", time: 1_700_000_000_000, schemaVersion, data, commandId: "c1", actor: { uid: 0, gid: 0, pid: 42 } });

test("every event type was reviewed for env values at its current schema version", () => {
  // A failure here means an event's payload changed: check it for env values, then update src/fleet/redact.ts.
  assert.equal(REVIEWED, SCHEMA_VERSIONS);
  assert.equal([...ENV_TYPES].sort(), ["BootstrapRequested", "ContainerCreated", "ProcessCreated"]);
});

const envBearing = [
  { type: "ContainerCreated", data: { id: "web", config: { hostname: "web", labels: { tier: "front" }, init: { args: ["sh"], cwd: "/", env: { SECRET, PATH: "/bin" }, rlimits: [], terminal: false } } }, env: (d: any) => d.config.init.env },
  { type: "BootstrapRequested", data: { dynamicEnv: { SECRET }, run: true }, env: (d: any) => d.dynamicEnv },
  { type: "ProcessCreated", data: { processId: "p1", spec: { args: ["env"], cwd: "/", env: { SECRET, EMPTY: "" }, rlimits: [], terminal: false } }, env: (d: any) => d.spec.env },
] as const;

for (const { type, data, env } of envBearing) {
  test(`${type}: each env value is replaced, the names and everything else are as stored`, () => {
    const stored = body(data, SCHEMA_VERSIONS[type]);
    const r = redactEnvBody(type, SCHEMA_VERSIONS[type], stored);
    assert.ok(r.redacted);
    if (!r.redacted) return;
    assert.is(r.header, "env");
    assert.not.ok(r.body.includes(SECRET), "the value is gone from the bytes");
    const before = unpackBody(stored);
    const after = unpackBody(r.body);
    assert.equal(Object.keys(env(after.data)), Object.keys(env(data)), "the names stay, in order");
    assert.ok(Object.values(env(after.data)).every((v) => v === REDACTED_VALUE), "every value, empty ones too");
    assert.equal({ ...after, data: 0 }, { ...before, data: 0 }, "the envelope is as stored");
    const expected = structuredClone(data) as any;
    for (const name of Object.keys(env(expected))) env(expected)[name] = REDACTED_VALUE;
    assert.equal(after.data, expected, "the rest of the payload is as stored");
    assert.ok(stored.equals(body(data, SCHEMA_VERSIONS[type])), "the input is not touched");
  });
}

test("ContainerCreated v1 is redacted as v2 (the env is where it was)", () => {
  const r = redactEnvBody("ContainerCreated", 1, body(envBearing[0].data, 1));
  assert.ok(r.redacted && !r.body.includes(SECRET));
});

test("an event without env values, or with an empty environment, ships as the stored bytes themselves", () => {
  const exited = body({ processId: "web", pid: 7, exitCode: 0, exitedAt: 1, oomKilled: false }, 2);
  const r = redactEnvBody("ProcessExited", 2, exited);
  assert.not.ok(r.redacted);
  assert.is(r.body, exited);
  const empty = body({ dynamicEnv: {} });
  const e = redactEnvBody("BootstrapRequested", 1, empty);
  assert.not.ok(e.redacted);
  assert.is(e.body, empty);
});

test("a schema version or type the redaction does not know refuses, with fault redacted, rather than ship it", () => {
  for (const [type, version] of [["ContainerCreated", SCHEMA_VERSIONS.ContainerCreated + 1], ["ProcessExited", 99], ["NoSuchEvent", 1]] as const) {
    try {
      redactEnvBody(type, version, body({}));
      assert.unreachable(`${type}@${version} was shipped`);
    } catch (err) {
      assert.instance(err, FleetError);
      assert.is((err as FleetError).fault, "redacted");
    }
  }
  try {
    redactEnvBody("ProcessCreated", 1, body({ processId: "p", spec: { env: "SECRET=hunter2" } }));
    assert.unreachable("an env that is not a map was shipped");
  } catch (err) {
    assert.is((err as FleetError).fault, "redacted");
  }
  assert.ok(EVENT_TYPES.length > ENV_TYPES.length);
});

// ---- a daemon shipping with --ship-redact-env to a real nats-server ----

const NODE = "node-r";
let nats: NatsServer | undefined;
const work = tempDir("berth-fleet-redact-");
const original = join(work.path, "original");
let journal: StoredRow[] = [];
let stats = "";

test.before(async () => {
  ensureBuilt();
  nats = await startNats();
  fs.mkdirSync(original, { mode: 0o700 });
  await withDaemon(tempRoot(), async (frame) => {
    const rc = await frame.client("web");
    try {
      await rc.createContainer({ init: { args: ["sleep", "1000"], env: { SECRET } } });
      await rc.bootstrap({ dynamicEnv: { BOOT_TOKEN: `${SECRET}-boot` } });
      await rc.startProcess("web");
      await rc.createProcess("probe", { args: ["env"], env: { EXEC_KEY: `${SECRET}-exec` } });
      await rc.stop({ timeoutInSeconds: 1 });
      await rc.delete();
    } finally {
      rc.close();
    }
    await waitShipped(nats!.url, NODE, frame.root);
    stats = (await berth(frame.root, ["journal", "stats"])).stdout;
    await frame.stop();
    fs.copyFileSync(journalPath(frame.root), journalPath(original));
  }, { driver: "fake", command: shippingDaemon(nats.url, NODE, ["--ship-redact-env"]) });
  journal = await journalRows(original);
});

test.after(async () => {
  await nats?.stop();
  work.remove();
});

test("journal stats says the shipper redacts env values", () => {
  assert.match(stats, `shipping as node ${NODE} to ${nats!.url} (env values redacted): shipping`);
});

test("berth daemon takes --ship-redact-env only with --ship", async () => {
  const r = await berth(join(work.path, "unused"), ["daemon", "--ship-redact-env", "--driver", "fake"], { timeoutMs: 30_000 });
  assert.is.not(r.code, 0);
  assert.match(r.stderr, "--ship-redact-env redacts what is shipped: it needs --ship");
});

test("no message of the stream holds a value, in its body or any header", async () => {
  const fleet = await openFleet({ servers: nats!.url }, "berth test");
  try {
    const { state } = await fleet.jsm.streams.info(STREAM_NAME);
    assert.ok(state.messages >= journal.length, `the stream holds the node's ${journal.length} events`);
    for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
      const m = await fleet.jsm.streams.getMessage(STREAM_NAME, { seq });
      assert.ok(m, `message ${seq}`);
      assert.not.ok(Buffer.from(m!.data).includes(SECRET), `message ${seq}'s body`);
      for (const key of m!.header?.keys() ?? []) {
        assert.not.ok(`${key}: ${m!.header!.values(key).join(",")}`.includes(SECRET), `message ${seq}'s header ${key}`);
      }
    }
  } finally {
    await fleet.nc.close();
  }
  assert.ok(journal.some((r) => r.body.includes(SECRET)), "the local journal keeps the values");
});

test("exactly the env-bearing events carry Berth-Redacted: env; they keep the names and the journal's chain hash; the rest are the stored bytes", async () => {
  const stream = await streamRows(nats!.url, NODE);
  assert.equal(stream.map((s) => s.row.position), journal.map((r) => r.position));
  const redactedTypes = stream.filter((s) => s.redacted !== undefined).map((s) => s.row.type);
  assert.equal(redactedTypes, ["ContainerCreated", "BootstrapRequested", "ProcessCreated"]);
  for (let i = 0; i < stream.length; i++) {
    const s = stream[i]!;
    const j = journal[i]!;
    assert.ok(s.row.hash.equals(j.hash), `the chain hash at ${j.position} is the journal's`);
    assert.equal({ ...s.row, body: 0 }, { ...j, body: 0 }, `the columns at ${j.position}`);
    if (s.redacted === undefined) assert.ok(s.row.body.equals(j.body), `${j.type} at ${j.position} is the stored bytes`);
    else assert.is(s.redacted, "env");
  }
  const events = new Map(stream.map((s) => [s.row.type, toStoredEvent(s.row) as StoredEvent & { data: any }]));
  assert.is(events.get("ContainerCreated")!.data.config.init.env.SECRET, REDACTED_VALUE);
  assert.equal(events.get("BootstrapRequested")!.data.dynamicEnv, { BOOT_TOKEN: REDACTED_VALUE });
  assert.equal(events.get("ProcessCreated")!.data.spec.env, { EXEC_KEY: REDACTED_VALUE });
  const local = toStoredEvent(journal.find((r) => r.type === "ContainerCreated")!) as StoredEvent & { data: any };
  assert.is(local.data.config.init.env.SECRET, SECRET, "the journal's event keeps its value");
});

test("the local journal verifies, and the witness says ok: the hashes match, the redacted bodies are named as unchecked", async () => {
  const plain = await berth(original, ["journal", "verify"]);
  assert.is(plain.code, 0, plain.stderr);
  const w = await berth(original, ["journal", "verify", "--witness", nats!.url, "--node", NODE]);
  assert.is(w.code, 0, w.stderr);
  assert.match(w.stdout, "witness ok");
  assert.match(w.stdout, "3 were shipped with env values redacted");
});

/** A copy of the original journal with ContainerCreated's payload changed by `f` and every hash from it re-chained: plain verify passes. */
function rewritten(name: string, f: (data: any) => void): string {
  const root = join(work.path, name);
  fs.mkdirSync(root, { mode: 0o700 });
  fs.copyFileSync(journalPath(original), journalPath(root));
  onSqliteFile(journalPath(root), (db) => {
    type Row = { position: number; stream_id: string; version: number; type: string; body: Buffer };
    const rows = db.prepare("SELECT position, stream_id, version, type, body FROM events ORDER BY position").all() as Row[];
    const update = db.prepare("UPDATE events SET body = ?, hash = ? WHERE position = ?");
    let prev: Uint8Array = GENESIS_HASH;
    let changed = false;
    for (const row of rows) {
      let body = row.body;
      if (row.type === "ContainerCreated") {
        const fields = unpackBody(body);
        f(fields.data);
        body = packBody(fields);
        changed = true;
      }
      const hash = chainHash(prev, { position: row.position, streamId: row.stream_id, version: row.version, type: row.type, body });
      if (changed) update.run(body, hash, row.position);
      prev = hash;
    }
    db.prepare("DELETE FROM snapshots").run();
  });
  return root;
}

test("the witness on a redacted message: a rewritten event is named as rewritten; a rewritten env value only as a difference", async () => {
  const created = journal.find((r) => r.type === "ContainerCreated")!.position;
  for (const [name, f, reason] of [
    ["hostname", (d: any) => (d.config.hostname = "forged"), "the local event was rewritten (its body, redacted, is not the one shipped)"],
    ["env", (d: any) => (d.config.init.env.SECRET = "forged"), "or one of its env values, which the redacted message cannot show"],
  ] as const) {
    const root = rewritten(name, f);
    const plain = await berth(root, ["journal", "verify"]);
    assert.is(plain.code, 0, `plain verify cannot see it: ${plain.stderr}`);
    const w = await berth(root, ["journal", "verify", "--witness", nats!.url, "--node", NODE]);
    assert.is(w.code, 1, w.stdout);
    assert.match(w.stderr, `failed at position ${created}:`);
    assert.match(w.stderr, reason);
  }
});

test("events --fleet and history --fleet show the redacted events: names, no values", async () => {
  const events = await berth(original, ["events", "--fleet", nats!.url, "--node", NODE, "--format", "json"]);
  assert.is(events.code, 0, events.stderr);
  assert.is(events.stdout.trim().split("\n").length, journal.length);
  assert.not.ok(events.stdout.includes(SECRET));
  assert.match(events.stdout, `"SECRET":"${REDACTED_VALUE}"`);
  const history = await berth(original, ["history", "--fleet", nats!.url, "--node", NODE, "web"]);
  assert.is(history.code, 0, history.stderr);
  assert.not.ok(history.stdout.includes(SECRET));
});

test("journal restore from the redacted stream is refused with fault redacted, and writes nothing", async () => {
  const root = join(work.path, "restored");
  const r = await berth(root, ["journal", "restore", "--from", nats!.url, "--node", NODE, "--root", root]);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, "redacted");
  assert.match(r.stderr, "does not hold their original bytes");
  assert.not.ok(fs.existsSync(root), "no root, no journal file left behind");
  // The same through the library: the typed error, and the journal left empty.
  const dir = tempDir("berth-fleet-redact-lib-");
  const j = await Journal.open(join(dir.path, "journal.db"));
  try {
    await restoreFromFleet(j, { servers: nats!.url }, NODE);
    assert.unreachable("restored");
  } catch (err) {
    assert.instance(err, FleetError);
    assert.is((err as FleetError).fault, "redacted");
    assert.is((err as FleetError).code, "unsupported");
    assert.is(j.head().position, 0, "nothing was written");
  } finally {
    j.close();
    dir.remove();
  }
});

test.run();
