// Issue #17, the daemon's config file: `berth daemon --config FILE`, else `<root>/daemon.json`.
// Its keys mirror the flags; unknown keys and wrong types are refused naming the key and the
// file; a flag wins over the file; relative paths resolve against the file's directory; and the
// NATS credentials can live in it (end to end: an nkey seed named by the file ships).
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mergeOptions, parseDaemonConfig } from "../src/daemon/config.js";
import { readShipStatus } from "../src/fleet/status.js";
import { berth, bin, ensureBuilt } from "./helpers/cli-env.js";
import { tempRoot, waitFor, withDaemon } from "./helpers/daemon.js";
import { assertSameRows, daemonMain, lifecycle, waitShipped } from "./helpers/fleet.js";
import { withNats } from "./helpers/nats.js";
import { nkeyServerConfig, userKey } from "./helpers/nats-auth.js";
import { withTempDir } from "./helpers/tmp.js";

test.before(() => ensureBuilt());

const FILE = "/etc/berth/daemon.json";
const refusal = (text: string) => {
  const r = parseDaemonConfig(text, FILE);
  if (r.ok) throw new Error(`expected ${text} to be refused`);
  assert.is(r.error.code, "invalidArgument");
  return r.error.message;
};

test("the file's keys mirror the flags; relative paths resolve against its directory; servers may be an array", () => {
  const r = parseDaemonConfig(JSON.stringify({ driver: "fake", sync: "normal", acceptJournalLoss: true, log: { driver: "k8s-file", maxFiles: 3 }, defaultNetwork: "none", registriesConf: "registries.conf", ship: { servers: ["nats://10.0.0.5:4222", "tls://10.0.0.6:4222"], node: "web-1", user: "u", password: "p", ca: "../ca.pem", nkey: "/keys/web-1.nk", redactEnv: true } }), FILE);
  assert.ok(r.ok);
  assert.equal(r.options, { driver: "fake", sync: "normal", acceptJournalLoss: true, log: { driver: "k8s-file", maxFiles: 3 }, defaultNetwork: "none", registriesConf: "/etc/berth/registries.conf", ship: { servers: "nats://10.0.0.5:4222,tls://10.0.0.6:4222", node: "web-1", user: "u", password: "p", ca: "/etc/ca.pem", nkey: "/keys/web-1.nk", redactEnv: true } });
  assert.equal(parseDaemonConfig("{}", FILE), { ok: true, options: {} });
});

test("unknown keys, at any level, and wrong types are invalidArgument naming the key and the file", () => {
  assert.match(refusal(`{"shipp": {}}`), `unknown key "shipp" in ${FILE}: expected driver, sync,`);
  assert.match(refusal(`{"ship": {"servers": "nats://a:1", "nkeys": "x"}}`), `unknown key "ship.nkeys" in ${FILE}`);
  assert.match(refusal(`{"log": {"maxFile": 3}}`), `unknown key "log.maxFile" in ${FILE}`);
  assert.match(refusal(`{"constructor": {}}`), `unknown key "constructor" in ${FILE}`);
  assert.match(refusal(`{"ship": {"__proto__": {"servers": "nats://a:1"}}}`), `unknown key "ship.__proto__" in ${FILE}`);
  assert.match(refusal(`{"sync": "fast"}`), `"sync" in ${FILE} must be "full" or "normal", not "fast"`);
  assert.match(refusal(`{"acceptJournalLoss": "yes"}`), `"acceptJournalLoss" in ${FILE} must be true or false`);
  assert.match(refusal(`{"ship": {"servers": 4222}}`), `"ship.servers" in ${FILE} must be a NATS URL or an array of them`);
  assert.match(refusal(`{"ship": {"servers": "http://a:1"}}`), `"ship.servers" in ${FILE}: http://a:1 is not a NATS server address`);
  assert.match(refusal(`{"ship": {"nkey": ""}}`), `"ship.nkey" in ${FILE} must be a file path`);
  assert.match(refusal(`{"ship": "nats://a:1"}`), `"ship" in ${FILE} must be an object`);
  assert.match(refusal(`{"driver": "runc",}`), `${FILE} is not valid JSON`);
  assert.match(refusal(`["driver"]`), `${FILE} must hold a JSON object`);
});

test("a flag wins over the file, key by key, inside ship too", () => {
  const merged = mergeOptions({ sync: "normal", driver: "runc", ship: { servers: "nats://file:1", node: "from-file", password: "secret" } }, { driver: "fake", sync: undefined, ship: { servers: undefined, node: "from-flag" } });
  assert.equal(merged, { sync: "normal", driver: "fake", ship: { servers: "nats://file:1", node: "from-flag", password: "secret" } });
});

/** `berth daemon ARGS` (the built CLI) when it refuses to start: its exit code and stderr. */
async function refusedCli(root: string, args: string[]) {
  const r = await berth(root, ["daemon", ...args], { timeoutMs: 30_000 });
  assert.not.match(r.stdout, "serving");
  return r;
}

test("berth daemon refuses a config file with an unknown key or bad JSON: exit 125, invalidArgument naming the key and the file", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "daemon.json");
    writeFileSync(file, JSON.stringify({ ship: { servers: "nats://127.0.0.1:4222", nkeys: "node.nk" } }));
    const r = await refusedCli(join(dir, "root"), ["--config", file, "--driver", "fake"]);
    assert.is(r.code, 125, r.stderr);
    assert.match(r.stderr, `invalidArgument: unknown key "ship.nkeys" in ${file}`);
    // The default file, <root>/daemon.json, is read without --config, and refused the same way.
    const root = join(dir, "root2");
    mkdirSync(root, { mode: 0o700 });
    writeFileSync(join(root, "daemon.json"), `{"sync": "normal"`);
    const bad = await refusedCli(root, ["--driver", "fake"]);
    assert.is(bad.code, 125, bad.stderr);
    assert.match(bad.stderr, `invalidArgument: ${join(root, "daemon.json")} is not valid JSON`);
    const missing = await refusedCli(root, ["--config", join(dir, "nope.json")]);
    assert.is(missing.code, 125, missing.stderr);
    assert.match(missing.stderr, `invalidArgument: cannot read the daemon config file ${join(dir, "nope.json")}`);
  });
});

test("<root>/daemon.json holds the ship credentials: an nkey seed named relative to the file ships every event", async () => {
  await withTempDir(async (dir) => {
    const [node, reader] = [userKey(), userKey()];
    const readerSeed = join(dir, "reader.nk");
    writeFileSync(readerSeed, reader.seed);
    await withNats(async (nats) => {
      const root = tempRoot();
      writeFileSync(join(root, "node.nk"), `${node.seed}\n`, { mode: 0o600 });
      writeFileSync(join(root, "daemon.json"), JSON.stringify({ ship: { servers: [nats.url], node: "node-file", nkey: "node.nk" } }), { mode: 0o600 });
      await withDaemon(root, async (frame) => {
        assert.match(frame.daemon.output(), `config ${join(root, "daemon.json")}`);
        assert.not.match(frame.daemon.output(), "warning");
        for (let i = 0; i < 3; i++) await lifecycle(frame, `f${i}`);
        const { stream, journal } = await waitShipped({ servers: nats.url, nkey: readerSeed }, "node-file", frame.root);
        assertSameRows(stream, journal);
      }, { driver: "fake" });
    }, ["-c", nkeyServerConfig(dir, [node.publicKey, reader.publicKey])]);
  });
});

test("--config FILE: its ship settings apply, a flag overrides them (--node, --driver), and a readable password earns a warning", async () => {
  await withTempDir(async (dir) => {
    await withNats(async (nats) => {
      const file = join(dir, "berth.json");
      // The server asks for no credentials, so it ignores these: the file's mode is the point.
      writeFileSync(file, JSON.stringify({ driver: "runc", ship: { servers: nats.url, node: "from-file", user: "berth", password: "not-on-the-command-line" } }), { mode: 0o644 });
      await withDaemon(tempRoot(), async (frame) => {
        await waitFor("the shipper to ship", () => readShipStatus(frame.root)?.state === "shipping");
        assert.is(readShipStatus(frame.root)!.node, "from-flag");
        assert.is(readShipStatus(frame.root)!.servers, nats.url);
        assert.match(frame.daemon.output(), `warning: ${file} holds NATS credentials and is readable by others (mode 0644): chmod 600 it`);
        // --driver fake beat the file's runc: a container with no rootfs runs (runc would refuse it).
        await lifecycle(frame, "d1");
      }, { driver: "fake", command: ["--import", "tsx", daemonMain, "--config", file, "--node", "from-flag"] });
    });
  });
});

test("berth daemon --config FILE: the file's keys apply where no flag is given (the CLI passes no defaults over them)", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "daemon.json");
    writeFileSync(file, JSON.stringify({ driver: "fake", defaultNetwork: "none", sync: "normal" }), { mode: 0o600 });
    const root = join(dir, "root");
    const child = spawn(process.execPath, [bin, "daemon", "--root", root, "--config", file], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      await waitFor("berth daemon to serve", () => output.includes("serving") || child.exitCode !== null, 60_000);
      assert.match(output, `; config ${file}`);
      const info = await berth(root, ["info", "--format", "json"]);
      assert.is(info.code, 0, info.stderr);
      assert.is(JSON.parse(info.stdout).driver, "fake", "the file's driver, not the flag's default runc");
    } finally {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    }
  });
});

test.run();
