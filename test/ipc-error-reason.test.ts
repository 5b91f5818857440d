// Point 6 of #12: an error's machine-readable `reason` crosses the wire beside its code, in unary
// replies and in stream ends, and an error without one (an older peer, an old journaled error)
// still reads as before.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BerthError, errorInfo } from "../src/model/errors.js";
import { IpcClient } from "../src/ipc/client.js";
import { listen, type Route } from "../src/ipc/server.js";
import { exitCodeForError } from "../src/cli/context.js";
import { tempDir } from "./helpers/tmp.js";
import { rejection } from "./helpers/errors.js";

const routes: Record<string, Route> = {
  missing: { kind: "unary", handler: () => { throw new BerthError("invalidArgument", "cannot start process x: exec: \"nope\": executable file not found in $PATH", "executableNotFound"); } },
  plain: { kind: "unary", handler: () => { throw new BerthError("invalidState", "cannot start: container x is running, expected booted"); } },
  // What a newer peer might send: a reason this build does not know is dropped, the code kept.
  newer: { kind: "unary", handler: () => { throw Object.assign(new Error("m"), { code: "timeout", message: "m", reason: "somethingNew" }); } },
  broken: { kind: "stream", handler: async (_b, ctx) => { await ctx.emit(1); throw new BerthError("internalError", "cannot start process y: permission denied", "notExecutable"); } },
};

test("an IPC error reply carries its reason; the CLI maps reasons, not messages, to 127 / 126 / 125", async () => {
  const dir = tempDir("berth-reason-");
  const server = await listen({ socketPath: join(dir.path, "run", "berth.sock"), routes });
  const c = await IpcClient.connect(join(dir.path, "run", "berth.sock"));
  try {
    const missing = await rejection(c.call("missing"));
    assert.is(missing.code, "invalidArgument");
    assert.is(missing.reason, "executableNotFound");
    assert.is(exitCodeForError(missing), 127);

    const plain = await rejection(c.call("plain"));
    assert.is(plain.reason, undefined);
    assert.equal(plain.toJSON(), { code: "invalidState", message: "cannot start: container x is running, expected booted" }, "no reason: the old shape");
    assert.is(exitCodeForError(plain), 125);

    const newer = await rejection(c.call("newer"));
    assert.is(newer.code, "timeout");
    assert.is(newer.reason, undefined);

    const broken = await rejection((async () => { for await (const _ of c.stream("broken")) { /* one item */ } })());
    assert.is(broken.reason, "notExecutable");
    assert.is(exitCodeForError(broken), 126);
  } finally {
    c.close();
    await server.close();
    dir.remove();
  }
});

test("a journaled error keeps its reason, and one journaled before reasons reads without one", () => {
  assert.equal(errorInfo(new BerthError("invalidArgument", "m", "executableNotFound")), { code: "invalidArgument", message: "m", reason: "executableNotFound" });
  const old = BerthError.from({ code: "invalidArgument", message: "cannot start process x: executable file not found" });
  assert.is(old.reason, undefined);
  assert.is(old.code, "invalidArgument");
  // The message alone no longer decides: only a reason does.
  assert.is(exitCodeForError(old), 125);
});

test.run();
