// berth push against real registries: an image pulled from one registry, tagged for another
// that asks for basic auth, is refused without credentials, pushed after login with its manifest
// byte for byte (the same digest), and a second push finds every layer already there.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, withDaemon } from "./helpers/cli-env.js";
import { buildImage, busyboxTree, htpasswdLine, push, startRegistry } from "./helpers/registry.js";
import { tempDir } from "./helpers/tmp.js";

test("push: refused without credentials, the same digests after login, and layers already there the second time", async () => {
  const [from, to] = await Promise.all([startRegistry(), startRegistry({ htpasswd: htpasswdLine("u", "pu5h-pw") })]);
  const work = tempDir("berth-push-");
  try {
    const layout = join(work.path, "oci");
    const digest = buildImage(layout, "app", busyboxTree(work.path), { cmd: ["echo", "hi"] });
    push(layout, "app", `${from.host}/t/app:1`);
    push(layout, "app", `${from.host}/t/docker-app:1`, { format: "v2s2" });
    const env = { BERTH_AUTH_FILE: join(work.path, "auth.json"), DOCKER_CONFIG: join(work.path, "docker") };
    const target = `${to.host}/t/copy:1`;
    await withDaemon(async (root) => {
      assert.is((await berth(root, ["pull", "-q", `${from.host}/t/app:1`], { env })).code, 0);
      const untagged = await berth(root, ["push", target], { env });
      assert.is(untagged.code, 125);
      assert.match(untagged.stderr, /notFound: no such image: .*berth image tag IMAGE/);
      assert.is((await berth(root, ["image", "tag", `${from.host}/t/app:1`, target], { env })).code, 0);

      const anonymous = await berth(root, ["push", target], { env });
      assert.is(anonymous.code, 125);
      assert.match(anonymous.stderr, new RegExp(`invalidArgument: unauthorized: ${to.host} needs credentials for t/copy`));

      assert.is((await berth(root, ["login", "-u", "u", "-p", "pu5h-pw", to.host], { env })).code, 0);
      const pushed = await berth(root, ["push", target], { env });
      assert.is(pushed.code, 0, pushed.stderr);
      assert.match(pushed.stdout, new RegExp(`^The push refers to repository \\[${to.host}/t/copy\\]\\n`));
      assert.match(pushed.stdout, /: Pushed\n/);
      assert.match(pushed.stdout, new RegExp(`1: digest: ${digest} size: \\d+\\n$`));

      const auth = `Basic ${Buffer.from("u:pu5h-pw").toString("base64")}`;
      const res = await fetch(`http://${to.host}/v2/t/copy/manifests/1`, { headers: { authorization: auth, accept: "application/vnd.oci.image.manifest.v1+json" } });
      assert.is(res.status, 200);
      assert.is(res.headers.get("docker-content-digest"), digest, "the registry has the manifest byte for byte");

      const again = await berth(root, ["push", target], { env });
      assert.is(again.code, 0, again.stderr);
      assert.not.match(again.stdout, /Pushed/);
      assert.match(again.stdout, /Layer already exists/);

      // A Docker v2 schema 2 manifest goes as it is too.
      assert.is((await berth(root, ["pull", "-q", `${from.host}/t/docker-app:1`], { env })).code, 0);
      assert.is((await berth(root, ["image", "tag", `${from.host}/t/docker-app:1`, `${to.host}/t/docker-copy:1`], { env })).code, 0);
      const docker = await berth(root, ["push", "-q", `${to.host}/t/docker-copy:1`], { env });
      assert.is(docker.code, 0, docker.stderr);
      assert.is(docker.stdout, `${to.host}/t/docker-copy:1\n`);
      const [local] = JSON.parse((await berth(root, ["image", "inspect", `${to.host}/t/docker-copy:1`])).stdout);
      const res2 = await fetch(`http://${to.host}/v2/t/docker-copy/manifests/1`, { headers: { authorization: auth, accept: "application/vnd.docker.distribution.manifest.v2+json" } });
      assert.is(res2.headers.get("docker-content-digest"), local.Descriptor.digest);
      assert.is(res2.headers.get("content-type"), "application/vnd.docker.distribution.manifest.v2+json");
    });
  } finally {
    await Promise.all([from.stop(), to.stop()]);
    work.remove();
  }
});

test.run();
