// berth login / logout against a real registry with basic auth (htpasswd): an anonymous pull
// is refused with a clear 401 error, wrong credentials do not log in, right ones make the pull
// work, and the credentials stay in berth's 0600 file, never in the journal.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, withDaemon } from "./helpers/cli-env.js";
import { journalEvents } from "./helpers/daemon.js";
import { buildImage, busyboxTree, htpasswdLine, push, startRegistry } from "./helpers/registry.js";
import { tempDir } from "./helpers/tmp.js";

test("login checks the credentials, keeps them 0600 for pulls, logout forgets them; the journal never holds them", async () => {
  const registry = await startRegistry({ htpasswd: htpasswdLine("u", "s3cret-pw") });
  const work = tempDir("berth-login-");
  try {
    const layout = join(work.path, "oci");
    buildImage(layout, "app", busyboxTree(work.path), { cmd: ["echo", "hi"] });
    push(layout, "app", `${registry.host}/t/private:1`, { creds: "u:s3cret-pw" });
    const env = { BERTH_AUTH_FILE: join(work.path, "auth", "auth.json"), DOCKER_CONFIG: join(work.path, "docker") };
    const ref = `${registry.host}/t/private:1`;
    await withDaemon(async (root) => {
      const anonymous = await berth(root, ["pull", ref], { env });
      assert.is(anonymous.code, 125);
      assert.match(anonymous.stderr, new RegExp(`invalidArgument: unauthorized: ${registry.host} needs credentials for t/private \\(berth login ${registry.host}\\)`));

      const wrong = await berth(root, ["login", "-u", "u", "-p", "wrong", registry.host], { env });
      assert.is(wrong.code, 125);
      assert.match(wrong.stderr, /unauthorized: .* refused the credentials of u/);
      assert.not.ok(fs.existsSync(env.BERTH_AUTH_FILE));

      const login = await berth(root, ["login", "-u", "u", "-p", "s3cret-pw", registry.host], { env });
      assert.is(login.code, 0, login.stderr);
      assert.is(login.stdout, "Login Succeeded\n");
      assert.is(fs.statSync(env.BERTH_AUTH_FILE).mode & 0o777, 0o600);
      const saved = JSON.parse(fs.readFileSync(env.BERTH_AUTH_FILE, "utf8"));
      assert.is(Buffer.from(saved.auths[registry.host].auth, "base64").toString(), "u:s3cret-pw");

      const run = await berth(root, ["run", "--rm", ref], { env });
      assert.is(run.code, 0, run.stderr);
      assert.is(run.stdout, "hi\n");

      for (const file of fs.readdirSync(root).filter((f) => f.startsWith("journal.db"))) {
        assert.not.ok(fs.readFileSync(join(root, file)).includes("s3cret-pw"), `the password is not in ${file}`);
      }
      assert.not.ok(JSON.stringify(await journalEvents(root)).includes("s3cret"), "nor in any event");

      assert.is((await berth(root, ["logout", registry.host], { env })).stdout, `Removing login credentials for ${registry.host}\n`);
      const after = await berth(root, ["pull", "--quiet", ref], { env });
      assert.is(after.code, 125, "even an up-to-date check asks the registry, which needs the credentials");
      assert.match(after.stderr, /unauthorized/);
    });
  } finally {
    await registry.stop();
    work.remove();
  }
});

/** A docker-credential-berthtest on PATH: keeps each server's JSON in $CRED_DIR and logs every call. */
function fakeHelper(dir: string): string {
  const bin = join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  const script = `#!${process.execPath}
const fs = require("fs"), path = require("path");
const dir = process.env.CRED_DIR, verb = process.argv[2];
const input = fs.readFileSync(0, "utf8");
fs.appendFileSync(path.join(dir, "calls"), verb + " " + (verb === "store" ? JSON.parse(input).ServerURL : input) + "\\n");
const file = (s) => path.join(dir, encodeURIComponent(s));
if (verb === "store") { fs.writeFileSync(file(JSON.parse(input).ServerURL), input); process.exit(0); }
if (!fs.existsSync(file(input))) { process.stdout.write("credentials not found in native keychain\\n"); process.exit(1); }
if (verb === "get") process.stdout.write(fs.readFileSync(file(input)));
if (verb === "erase") fs.rmSync(file(input));
`;
  fs.writeFileSync(join(bin, "docker-credential-berthtest"), script, { mode: 0o755 });
  return bin;
}

test("credHelpers and credsStore: login stores through the helper, pulls ask it, logout erases; a missing helper is named", async () => {
  const registry = await startRegistry({ htpasswd: htpasswdLine("u", "h3lper-pw") });
  const work = tempDir("berth-helper-");
  try {
    const layout = join(work.path, "oci");
    buildImage(layout, "app", busyboxTree(work.path), { cmd: ["echo", "hi"] });
    push(layout, "app", `${registry.host}/t/private:1`, { creds: "u:h3lper-pw" });
    const credDir = join(work.path, "creds");
    fs.mkdirSync(credDir);
    const authFile = join(work.path, "auth.json");
    fs.writeFileSync(authFile, JSON.stringify({ credHelpers: { [registry.host]: "berthtest" } }));
    fs.mkdirSync(join(work.path, "docker"));
    const env = { BERTH_AUTH_FILE: authFile, DOCKER_CONFIG: join(work.path, "docker"), CRED_DIR: credDir, PATH: `${fakeHelper(work.path)}:${process.env.PATH}` };
    const ref = `${registry.host}/t/private:1`;
    const calls = () => fs.readFileSync(join(credDir, "calls"), "utf8").trim().split("\n");
    await withDaemon(async (root) => {
      const anonymous = await berth(root, ["pull", "-q", ref], { env });
      assert.match(anonymous.stderr, /unauthorized: .* needs credentials/, "the helper had nothing: an anonymous pull");
      assert.equal(calls(), [`get ${registry.host}`]);

      const login = await berth(root, ["login", "-u", "u", "--password-stdin", registry.host], { env, stdin: Buffer.from("h3lper-pw\n") });
      assert.is(login.code, 0, login.stderr);
      assert.equal(JSON.parse(fs.readFileSync(join(credDir, encodeURIComponent(registry.host)), "utf8")), { ServerURL: registry.host, Username: "u", Secret: "h3lper-pw" });
      assert.not.ok(fs.readFileSync(authFile, "utf8").includes("h3lper"), "berth's file holds no password when a helper keeps it");

      const pull = await berth(root, ["pull", "-q", ref], { env });
      assert.is(pull.code, 0, pull.stderr);
      assert.is(calls().at(-1), `get ${registry.host}`);

      assert.is((await berth(root, ["logout", registry.host], { env })).stdout, `Removing login credentials for ${registry.host}\n`);
      assert.is(calls().at(-1), `erase ${registry.host}`);
      assert.match((await berth(root, ["pull", "-q", ref], { env })).stderr, /unauthorized/);

      // docker's own config.json with credsStore, berth's file silent: the store is asked.
      fs.writeFileSync(authFile, "{}");
      fs.writeFileSync(join(work.path, "docker", "config.json"), JSON.stringify({ credsStore: "berthtest", auths: { [registry.host]: {} } }));
      fs.writeFileSync(join(credDir, encodeURIComponent(registry.host)), JSON.stringify({ ServerURL: registry.host, Username: "u", Secret: "h3lper-pw" }));
      const viaStore = await berth(root, ["pull", "-q", ref], { env });
      assert.is(viaStore.code, 0, viaStore.stderr);

      fs.writeFileSync(authFile, JSON.stringify({ credHelpers: { [registry.host]: "nosuch" } }));
      const missing = await berth(root, ["pull", "-q", ref], { env });
      assert.is(missing.code, 125);
      assert.match(missing.stderr, /notFound: credential helper docker-credential-nosuch is not on PATH/);
      assert.not.ok(JSON.stringify(await journalEvents(root)).includes("h3lper"), "no event holds the password");
    });
  } finally {
    await registry.stop();
    work.remove();
  }
});

test.run();
