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

test.run();
