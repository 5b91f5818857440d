// An image's ExposedPorts under -P, end to end: pulled from a real registry, run on the default
// bridge through the CNI plugins, each exposed port published on a picked host port that
// `berth port` reports and that answers on 127.0.0.1. Traffic goes only to loopback.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth } from "./helpers/cli-env.js";
import { withNetDaemon } from "./helpers/network.js";
import { buildImage, busyboxTree, push, startRegistry } from "./helpers/registry.js";
import { tempDir } from "./helpers/tmp.js";

test("run -P publishes the image's own ExposedPorts; --expose adds to them", async () => {
  const registry = await startRegistry();
  const work = tempDir("berth-expose-");
  try {
    const layout = join(work.path, "oci");
    const tree = busyboxTree(work.path, { "srv/index.html": "from-the-image\n" });
    buildImage(layout, "web", tree, { cmd: ["busybox", "httpd", "-f", "-p", "80", "-h", "/srv"], exposed: ["80/tcp"] });
    const ref = `${registry.host}/t/web:1`;
    push(layout, "web", ref);
    await withNetDaemon(async (root) => {
      assert.is((await berth(root, ["pull", "-q", ref])).code, 0);
      const run = await berth(root, ["run", "-d", "--name", "web", "-P", "--expose", "8081", ref]);
      assert.is(run.code, 0, run.stderr);
      const ports = (await berth(root, ["port", "web"])).stdout.trim().split("\n").sort();
      assert.is(ports.length, 2, ports.join("\n"));
      const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/.exec(ports[0]!);
      assert.ok(m, ports[0]);
      assert.match(ports[1]!, /^8081\/tcp -> 0\.0\.0\.0:\d+$/);
      const res = await fetch(`http://127.0.0.1:${m![1]}/`, { signal: AbortSignal.timeout(10_000) });
      assert.is(await res.text(), "from-the-image\n");
    }, "image ExposedPorts under -P");
  } finally {
    await registry.stop();
    work.remove();
  }
});

test.run();
