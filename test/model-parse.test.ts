// Point 6 of #12: a request is parsed once, at the route, into a typed command; bad input is a
// typed invalidArgument naming what was wrong, and the decider is left the business rules.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCommand, validateCommand } from "../src/commands/parse.js";
import { decide } from "../src/commands/decide.js";
import { initArgs, stateIn } from "./helpers/model.js";

function refusal(result: ReturnType<typeof parseCommand>) {
  assert.is(result.ok, false, "refused");
  return result.ok ? { code: "accepted", message: "" } : result.error;
}

test("a bad id, process id or signal is invalidArgument, with a message naming it", () => {
  for (const id of ["../x", "x/y", "", "a".repeat(65), "-x", "..", 7]) {
    const e = refusal(parseCommand("stop", { id }));
    assert.is(e.code, "invalidArgument");
    assert.match(e.message, /container id/);
  }
  const pid = refusal(parseCommand("startProcess", { id: "c1", processId: "../p" }));
  assert.equal(pid, { code: "invalidArgument", message: 'invalid process id "../p": expected 1-64 characters of [a-zA-Z0-9_.-], starting with a letter or digit' });
  assert.equal(refusal(parseCommand("kill", { id: "c1", signal: "SIGNOPE" })), { code: "invalidArgument", message: 'unknown signal "SIGNOPE"' });
  assert.equal(refusal(parseCommand("stop", { id: "c1", signal: 99 })), { code: "invalidArgument", message: "unknown signal number 99" });
});

test("bad numbers, configs and specs are invalidArgument", () => {
  for (const timeoutInSeconds of [-1, 86401, Number.NaN, "10"]) {
    const e = refusal(parseCommand("stop", { id: "c1", timeoutInSeconds }));
    assert.is(e.code, "invalidArgument");
    assert.match(e.message, /stop timeout must be a number of seconds between 0 and 86400/);
  }
  const memory = refusal(parseCommand("create", { id: "c1", config: { init: initArgs, resources: { memoryBytes: 12 } } }));
  assert.equal(memory, { code: "invalidArgument", message: "resources.memoryBytes must be an integer of at least 4 MiB" });
  assert.is(refusal(parseCommand("create", { id: "c1", config: { init: { args: [] } } })).code, "invalidArgument");
  assert.is(refusal(parseCommand("createProcess", { id: "c1", processId: "x1", spec: { args: ["ls"], cwd: "/../etc" } })).code, "invalidArgument");
  assert.is(refusal(parseCommand("bootstrap", { id: "c1", dynamicEnv: { A: 1 } })).code, "invalidArgument");
});

test("a good request becomes a typed command, with the defaults a route fills", () => {
  assert.equal(parseCommand("kill", { id: "c1" }), { ok: true, value: { type: "kill", id: "c1", processId: "c1", signal: "SIGKILL" } });
  assert.equal(parseCommand("kill", { id: "c1", processId: "x1", signal: 15 }), { ok: true, value: { type: "kill", id: "c1", processId: "x1", signal: "SIGTERM" } });
  assert.equal(parseCommand("startProcess", { id: "c1" }), { ok: true, value: { type: "startProcess", id: "c1", processId: "c1" } });
  // Stop's defaults are the container's: the parser leaves them to the decider.
  assert.equal(parseCommand("stop", { id: "c1", signal: "term" }), { ok: true, value: { type: "stop", id: "c1", signal: "SIGTERM" } });
  assert.equal(parseCommand("bootstrap", { id: "c1", run: true }), { ok: true, value: { type: "bootstrap", id: "c1", dynamicEnv: {}, run: true } });
  assert.equal(parseCommand("delete", { id: "c1", force: true }), { ok: true, value: { type: "delete", id: "c1" } });
  const create = parseCommand("create", { id: "c1", config: { init: initArgs } });
  assert.ok(create.ok && create.value.type === "create" && create.value.config.hostname === "c1", "the config is validated and defaulted");
  // Parsing a parsed command changes nothing: the specs may pass either.
  assert.equal(create.ok && validateCommand(create.value), create);
});

test("the decider keeps the business rules: a typed command in the wrong state is refused by it", () => {
  const kill = parseCommand("kill", { id: "c1", signal: "TERM" });
  assert.ok(kill.ok);
  const decision = decide(stateIn("stopped"), kill.ok ? kill.value : (undefined as never));
  assert.equal(decision, { ok: false, error: { code: "invalidState", message: "cannot kill: container c1 is stopped, expected running or stopping" } });
});

test.run();
