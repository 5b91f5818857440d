// docs/cli.md is generated from the parser and must match it; plus the CLI's pure parsers.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventsQuery } from "../src/cli/commands/events.js";
import { containerConfig } from "../src/cli/container-options.js";
import { parseBytes, parseDuration, parseTime } from "../src/cli/format.js";
import { renderReference } from "../src/cli/reference.js";

test("docs/cli.md is the reference generated from the parser", () => {
  const doc = fs.readFileSync(join(import.meta.dirname, "..", "docs", "cli.md"), "utf8");
  assert.fixture(doc, renderReference());
});

test("times are RFC 3339, Unix seconds or a duration ago; positions are @N", () => {
  const now = Date.parse("2024-05-01T12:00:00Z");
  assert.is(parseTime("2024-05-01T11:00:00Z", now), Date.parse("2024-05-01T11:00:00Z"));
  assert.is(parseTime("2024-05-01T13:00:00+02:00", now), Date.parse("2024-05-01T11:00:00Z"));
  assert.is(parseTime("1714561200", now), 1714561200_000);
  assert.is(parseTime("10m", now), now - 600_000);
  assert.is(parseDuration("1h30m"), 5_400_000);
  assert.throws(() => parseTime("yesterday", now), /invalid time/);
  assert.equal(eventsQuery({ since: "@5", until: "@9", filter: ["container=w", "type=ProcessExited", "actor=0"] }, now), {
    after: 4, upTo: 9, container: "w", types: ["ProcessExited"], actorUid: 0,
  });
  assert.equal(eventsQuery({ since: "10m", filter: [] }, now), { since: now - 600_000 });
});

test("run flags become the daemon's container config", () => {
  const { id, config } = containerConfig({
    name: "w", env: ["A=1"], envFile: [], label: ["team=a"], volume: ["/tmp:/data:ro"], memory: "64m", cpus: "0.5", pidsLimit: "20",
    readOnly: true, network: "none", restart: "on-failure:3", stopSignal: "int", stopTimeout: "1", workdir: "/tmp", user: "1000:1000",
  }, ["busybox", "sleep", "9"]);
  assert.is(id, "w");
  assert.equal(config, {
    rootfs: { image: "busybox" },
    init: { args: ["sleep", "9"], env: { A: "1" }, cwd: "/tmp", user: "1000:1000" },
    resources: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pids: 20 },
    readOnlyRootfs: true,
    mounts: [{ source: "/tmp", destination: "/data", readOnly: true }],
    network: "none",
    stopSignal: "SIGINT",
    stopTimeoutSeconds: 1,
    labels: { team: "a" },
    restart: { name: "on-failure", maxRetries: 3 },
  });
  assert.is(parseBytes("1g"), 1024 ** 3);
  assert.equal(containerConfig({ env: [], envFile: [], label: [], volume: [], rootfs: "/srv/r" }, ["/bin/true"]).config.rootfs, { path: "/srv/r" });
});

test.run();
