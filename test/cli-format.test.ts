// One --format engine for ps, images and stats (and inspect, info, version, system df), through
// the real `berth` binary and a real daemon (runc under conmon): docker's default tables built
// from templates, docker's field names, `{{json .}}` as docker's line, berth's own records for
// `--format json`, and a bad template's Go error with exit 1 before anything is printed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import fs from "node:fs";
import { join } from "node:path";
import { berth, withDaemon } from "./helpers/cli-env.js";
import { dockerSave, tar } from "./helpers/vm-tar.js";

const ok = async (root: string, args: string[], code = 0) => {
  const r = await berth(root, args);
  assert.is(r.code, code, `berth ${args.join(" ")}: ${r.stderr}`);
  return r;
};
const columns = (header: string) => header.split(/\s{3,}/);
const lines = (text: string) => text.trimEnd().split("\n");

test("images: docker's table and fields through templates, {{json .}} as docker's line, --format json as berth's records", () =>
  withDaemon(async (root) => {
    const archive = join(root, "test-image.tar");
    fs.writeFileSync(archive, dockerSave([tar([{ name: "hello", data: "hi\n" }])]));
    assert.match((await ok(root, ["load", "-i", archive])).stdout, /^Loaded image: docker.io\/library\/test:latest\n$/);
    const [record] = JSON.parse((await ok(root, ["images", "--format", "json"])).stdout) as { reference: string; config: string; size: number }[];
    assert.is(record!.reference, "docker.io/library/test:latest");
    const id = record!.config.slice("sha256:".length, "sha256:".length + 12);

    const table = lines((await ok(root, ["images"])).stdout);
    assert.equal(columns(table[0]!), ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]);
    assert.match(table[1]!, new RegExp(`^test\\s+latest\\s+${id}\\s+N/A\\s+[\\d.]+k?B$`));
    const digests = lines((await ok(root, ["image", "ls", "--digests"])).stdout);
    assert.equal(columns(digests[0]!), ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]);
    assert.match(digests[1]!, /^test\s+latest\s+sha256:[0-9a-f]{64}\s+/);

    assert.is((await ok(root, ["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}} {{upper .Tag}}"])).stdout, `test:latest ${id} LATEST\n`);
    assert.is((await ok(root, ["image", "ls", "--no-trunc", "--format", "{{.ID}}"])).stdout, `${record!.config}\n`);
    assert.is((await ok(root, ["images", "-q"])).stdout, `${id}\n`);
    const custom = lines((await ok(root, ["images", "--format", "table {{.Repository}}\\t{{.Size}}\\t{{.Containers}}"])).stdout);
    assert.equal(columns(custom[0]!), ["REPOSITORY", "SIZE", "CONTAINERS"]);
    const docker = JSON.parse((await ok(root, ["images", "--format", "{{json .}}"])).stdout) as Record<string, string>;
    assert.equal(Object.keys(docker).sort(), ["Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository", "SharedSize", "Size", "Tag", "UniqueSize", "VirtualSize"]);
    assert.is(docker.Repository, "test");

    const bad = await berth(root, ["images", "--format", "{{.Nope}}"]);
    assert.is(bad.code, 1);
    assert.is(bad.stderr, 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.imageContext\n');
    assert.is(bad.stdout, "");
  }));

test("stats: docker's columns (with NAME) from a template, its fields in custom templates and {{json .}}; a bad template fails first", () =>
  withDaemon(async (root) => {
    await ok(root, ["run", "-d", "--name", "s1", "busybox", "sleep", "1000"]);
    await ok(root, ["run", "-d", "--name", "s2", "busybox", "sh", "-c", "sleep 1000 & sleep 2000"]);
    await ok(root, ["rename", "s2", "renamed"]);
    const table = lines((await ok(root, ["stats", "--no-stream"])).stdout);
    assert.equal(columns(table[0]!), ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]);
    assert.equal(table.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(" ")).sort(), ["s1 s1", "s2 renamed"]);
    assert.match(table.find((l) => l.startsWith("s2"))!, /\s\d+(\.\d+)?%\s+[\d.]+[KMG]?i?B \/ [\d.]+[KMG]i?B\s+[\d.]+%\s+[\d.]+[kM]?B \/ [\d.]+[kM]?B\s+[\d.]+[kM]?B \/ [\d.]+[kM]?B\s+2$/);

    const custom = await ok(root, ["stats", "--no-stream", "--format", "{{.Container}} {{.Name}} {{.PIDs}}", "renamed"]);
    assert.is(custom.stdout, "renamed renamed 2\n", "the container as named on the command line");
    const tabled = lines((await ok(root, ["stats", "--no-stream", "--format", "table {{.Name}}\\t{{.PIDs}}", "s1"])).stdout);
    assert.equal(tabled.map(columns), [["NAME", "PIDS"], ["s1", "1"]]);
    const docker = JSON.parse((await ok(root, ["stats", "--no-stream", "--format", "{{json .}}", "s1"])).stdout) as Record<string, string>;
    assert.equal(Object.keys(docker).sort(), ["BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs"]);
    assert.is(docker.PIDs, "1");
    const own = JSON.parse((await ok(root, ["stats", "--no-stream", "--format", "json", "s1"])).stdout) as { id: string; processCount: number }[];
    assert.equal(own.map((r) => [r.id, r.processCount]), [["s1", 1]]);

    const bad = await berth(root, ["stats", "--no-stream", "--format", "{{.Nope}}"]);
    assert.is(bad.code, 1);
    assert.is(bad.stderr, 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.statsContext\n');
    const unparsable = await berth(root, ["stats", "--no-stream", "--format", "{{.ID"]);
    assert.is(unparsable.code, 1);
    assert.match(unparsable.stderr, /^template: :1: unclosed action\n$/);
    assert.is((await berth(root, ["stats", "--no-stream", "ghost"])).code, 125);
    await ok(root, ["kill", "s1", "s2"]);
  }));

test("ps: {{json .}} is docker's line with docker's fields, --format json stays berth's inspect records", () =>
  withDaemon(async (root) => {
    await ok(root, ["run", "-d", "--name", "p", "--label", "team=a", "busybox", "sleep", "1000"]);
    const docker = JSON.parse((await ok(root, ["ps", "--format", "{{json .}}"])).stdout) as Record<string, unknown>;
    assert.equal(Object.keys(docker).sort(), ["Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names", "Networks", "Ports", "RunningFor", "Size", "State", "Status"]);
    assert.is(docker.Names, "p");
    assert.is(docker.State, "running");
    const own = JSON.parse((await ok(root, ["ps", "--format", "json"])).stdout) as { id: string; status: string; config: { labels: Record<string, string> } }[];
    assert.equal(own.map((c) => [c.id, c.status, c.config.labels.team]), [["p", "running", "a"]]);
    await ok(root, ["kill", "p"]);
  }));

test.run();
