// Issue #17, key-based NATS auth: a server whose users are nkeys (the config file written here,
// the keys made with the client's own nkeys), and a server in operator (JWT) mode with a .creds
// file. The right key ships; a wrong one is the fault "auth" in `journal stats` and the journal
// is untouched; a missing or malformed key file stops the daemon before it serves, naming it.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { nkeys } from "@nats-io/nats-core";
import { parseCredsFile, parseSeedFile } from "../src/fleet/credentials.js";
import { readShipStatus } from "../src/fleet/status.js";
import { berth, ensureBuilt } from "./helpers/cli-env.js";
import { tempRoot, waitFor, withDaemon, type DaemonFrame } from "./helpers/daemon.js";
import { assertSameRows, daemonMain, lifecycle, shippingDaemon, waitShipped } from "./helpers/fleet.js";
import { withNats } from "./helpers/nats.js";
import { nkeyServerConfig, operatorSetup, userKey } from "./helpers/nats-auth.js";
import { withTempDir } from "./helpers/tmp.js";

test.before(() => ensureBuilt());

const shipStats = async (root: string) => {
  const r = await berth(root, ["journal", "stats", "--format", "json"]);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).ship as { state: string; error?: { code: string; fault: string; message: string } };
};

/** The journal still verifies and the daemon still takes commands. */
async function untouched(frame: DaemonFrame): Promise<void> {
  await lifecycle(frame, `after-${Date.now()}`);
  const v = await berth(frame.root, ["journal", "verify"]);
  assert.is(v.code, 0, v.stderr);
}

async function refusedWithAuth(frame: DaemonFrame): Promise<void> {
  await waitFor("the shipper to fail with auth", () => readShipStatus(frame.root)?.error?.fault === "auth");
  const ship = await shipStats(frame.root);
  assert.is(ship.state, "failed");
  assert.is(ship.error?.code, "invalidArgument");
  assert.match(ship.error!.message, "the server refused the credentials");
  await untouched(frame);
}

/** A seed file as `nk -gen user` writes it: the seed and a newline, mode 0600. */
function seedFile(dir: string, name: string, seed: string): string {
  const file = join(dir, name);
  writeFileSync(file, `${seed}\n`, { mode: 0o600 });
  return file;
}

test("an nkey user: the right seed ships every event, a wrong seed is an auth error and the journal is untouched", async () => {
  await withTempDir(async (dir) => {
    const [node, reader, stranger] = [userKey(), userKey(), userKey()];
    const nodeSeed = seedFile(dir, "node.nk", node.seed);
    const readerSeed = seedFile(dir, "reader.nk", reader.seed);
    await withNats(async (nats) => {
      const asReader = { servers: nats.url, nkey: readerSeed };
      await withDaemon(tempRoot(), async (frame) => {
        for (let i = 0; i < 3; i++) await lifecycle(frame, `n${i}`);
        const { stream, journal } = await waitShipped(asReader, "node-nk", frame.root);
        assertSameRows(stream, journal);
        // The fleet CLI commands take the same flag: the witness reads back with the reader's seed.
        const v = await berth(frame.root, ["journal", "verify", "--witness", nats.url, "--node", "node-nk", "--ship-nkey", readerSeed]);
        assert.is(v.code, 0, v.stderr);
        assert.match(v.stdout, "witness ok: node node-nk shipped");
      }, { driver: "fake", command: shippingDaemon(nats.url, "node-nk", ["--ship-nkey", nodeSeed]) });
      await withDaemon(tempRoot(), refusedWithAuth, { driver: "fake", command: shippingDaemon(nats.url, "node-wrong", ["--ship-nkey", seedFile(dir, "stranger.nk", stranger.seed)]) });
      // Without any key the server refuses too, and the CLI says so.
      const r = await berth(join(dir, "restored"), ["journal", "restore", "--from", nats.url, "--node", "node-nk"]);
      assert.is(r.code, 125);
      assert.match(r.stderr, "refused the credentials");
    }, ["-c", nkeyServerConfig(dir, [node.publicKey, reader.publicKey])]);
  });
});

test("a seed file holds one user seed; an account's seed, two seeds or a bad creds block are refused without echoing the seed", () => {
  const user = userKey();
  assert.ok(parseSeedFile(`${user.seed}\n`, "/k/u.nk").ok);
  const accountSeed = new TextDecoder().decode(nkeys.createAccount().getSeed());
  const account = parseSeedFile(accountSeed, "/k/a.nk");
  assert.equal(account, { ok: false, message: "/k/a.nk holds an account's seed (SA...), not a user's (SU...)" });
  const two = parseSeedFile(`${user.seed}\n${user.seed}\n`, "/k/two.nk");
  assert.ok(!two.ok && !two.message.includes(user.seed) && two.message.includes("found 2 lines"));
  const creds = parseCredsFile(`-----BEGIN NATS USER JWT-----\nnot-a-jwt\n------END NATS USER JWT------\n-----BEGIN USER NKEY SEED-----\n${user.seed}\n------END USER NKEY SEED------\n`, "/k/u.creds");
  assert.equal(creds, { ok: false, message: "/k/u.creds: its first block is not a JWT" });
});

/** Runs the daemon from source with `args`; resolves with its exit code and output once it exits. */
function refusedStart(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", daemonMain, "--driver", "fake", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test("a missing, unreadable or malformed key file stops the daemon before it serves, naming the file", async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, "missing.nk");
    const notASeed = join(dir, "garbage.nk");
    writeFileSync(notASeed, "SUNOTASEED\n");
    // Unreadable even to root (these tests run as root, who reads any file whatever its mode): a directory.
    const unreadable = join(dir, "a-directory.nk");
    mkdirSync(unreadable);
    const cases: [string[], RegExp][] = [
      [["--ship-nkey", missing], new RegExp(`invalidArgument: cannot read the NATS nkey seed file ${missing}: ENOENT`)],
      [["--ship-nkey", notASeed], new RegExp(`invalidArgument: ${notASeed} does not hold a valid nkey seed`)],
      [["--ship-creds", notASeed], new RegExp(`invalidArgument: ${notASeed} is not a NATS credentials file`)],
      [["--ship-nkey", unreadable], new RegExp(`invalidArgument: cannot read the NATS nkey seed file ${unreadable}: EISDIR`)],
      [["--ship-nkey", notASeed, "--ship-creds", notASeed], /invalidArgument: give an nkey seed file or a \.creds file, not both/],
    ];
    for (const [i, [args, message]] of cases.entries()) {
      const root = join(dir, `root-${i}`);
      const r = await refusedStart(["--root", root, "--ship", "nats://127.0.0.1:4222", "--node", "n", ...args]);
      assert.is(r.code, 125, r.output);
      assert.match(r.output, message);
      assert.not.match(r.output, "serving");
    }
  });
});

test("operator mode: a .creds file ships; a user of an account the server does not know is an auth error", async () => {
  await withTempDir(async (dir) => {
    const op = operatorSetup(dir);
    await withNats(async (nats) => {
      const asUser = { servers: nats.url, creds: op.creds };
      await withDaemon(tempRoot(), async (frame) => {
        for (let i = 0; i < 3; i++) await lifecycle(frame, `c${i}`);
        const { stream, journal } = await waitShipped(asUser, "node-creds", frame.root);
        assertSameRows(stream, journal);
      }, { driver: "fake", command: shippingDaemon(nats.url, "node-creds", ["--ship-creds", op.creds]) });
      await withDaemon(tempRoot(), refusedWithAuth, { driver: "fake", command: shippingDaemon(nats.url, "node-stranger", ["--ship-creds", op.strangerCreds]) });
    }, ["-c", op.config]);
  });
});

test.run();
