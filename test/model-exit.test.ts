// One Exit inside berth (epoch ms); ISO text only in the exit record files and on the client
// wire. Records already on disk, and services started before an upgrade, send ISO text: both
// forms read as the same Exit.
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseExit, toExitStatus, type Exit } from "../src/model/exit.js";
import { readExitRecordsIn, writeExitRecord } from "../src/vm/exits.js";
import { withTempDir } from "./helpers/tmp.js";

const AT = Date.parse("2026-12-02T01:02:03.456Z");
const killed: Exit = { processId: "web", pid: 42, exitCode: 137, signal: "SIGKILL", oomKilled: false, exitedAt: AT };

test("parseExit reads exitedAt as ms or as ISO text, and no signal as null or absent", () => {
  assert.equal(parseExit({ ...killed }), killed);
  assert.equal(parseExit({ ...killed, exitedAt: "2026-12-02T01:02:03.456Z", ackedAt: "2026-12-02T01:02:04.000Z" }), killed, "an old record: ISO text, and ackedAt stays out");
  const { signal: _, ...plain } = killed;
  assert.equal(parseExit({ ...plain, exitCode: 0, signal: null }), { ...plain, exitCode: 0 }, "signal null is no signal, and no signal key");
  assert.is(parseExit({ processId: "web", pid: 42, exitCode: 0, exitedAt: "not a time" }), undefined);
  assert.is(parseExit("exit"), undefined);
});

test("toExitStatus is the client wire form: ISO text, no process identity", () => {
  assert.equal(toExitStatus(killed), { exitCode: 137, exitedAt: new Date(AT).toISOString(), oomKilled: false, signal: "SIGKILL" });
  assert.equal(toExitStatus({ exitCode: 0, exitedAt: 0, oomKilled: false }), { exitCode: 0, exitedAt: "1970-01-01T00:00:00.000Z", oomKilled: false });
});

test("an exit record keeps its file format on disk and reads back as the same Exit", () =>
  withTempDir((dir) => {
    const { signal: _, ...clean } = { ...killed, exitCode: 3 };
    writeExitRecord(dir, clean);
    const [name] = fs.readdirSync(dir);
    assert.is(name, `${AT}-42-web.json`);
    assert.equal(JSON.parse(fs.readFileSync(join(dir, name!), "utf8")), { processId: "web", pid: 42, exitCode: 3, signal: null, exitedAt: "2026-12-02T01:02:03.456Z", oomKilled: false });
    assert.equal(readExitRecordsIn(dir), [clean]);
  }));

test.run();
