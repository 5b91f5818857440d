// Acceptance 3.3: peer credentials come from the kernel (SO_PEERCRED through native/peercred),
// a disallowed uid is refused with a clear error, and the default file modes keep nobody out
// before the server is even reached.
import { chmodSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BerthError } from "../src/model/errors.js";
import { listen, type Peer, type Route } from "../src/ipc/server.js";
import { reap, spawnChild, type Child } from "./helpers/ipc-procs.js";
import { tempDir } from "./helpers/tmp.js";

const NOBODY = 65534;
type ClientResult = { ok: true; result: { peer: Peer }; pid: number } | { ok: false; code: string; message: string; pid: number };

function routes(seen: Peer[]): Record<string, Route> {
  return { ping: { kind: "unary", handler: (_b, ctx) => (seen.push(ctx.peer), { peer: ctx.peer }) } };
}

/** A temp dir that other users may traverse, so only the modes under test stand in their way. */
function traversableDir() {
  const dir = tempDir("berth-ipc-");
  chmodSync(dir.path, 0o755);
  return dir;
}

async function runClient(socket: string, opts: { uid?: number; gid?: number } = {}): Promise<ClientResult> {
  const child: Child = spawnChild(["client", socket, "ping"], opts);
  try {
    const out = await child.line<ClientResult>();
    assert.is(out.pid, child.pid);
    return out;
  } finally {
    await child.exited;
    await reap(child);
  }
}

test("a root client's uid, gid and pid as the handler sees them are the kernel's, matching the child process", async () => {
  const dir = traversableDir();
  const socket = join(dir.path, "run", "berth.sock");
  const seen: Peer[] = [];
  const server = await listen({ socketPath: socket, routes: routes(seen) });
  try {
    const out = await runClient(socket);
    assert.ok(out.ok, JSON.stringify(out));
    assert.equal(seen, [{ uid: 0, gid: 0, pid: out.pid }]);
  } finally {
    await server.close();
    dir.remove();
  }
});

test("a client running as nobody that reaches the server is refused with a clear error and closed", async () => {
  const dir = traversableDir();
  const socket = join(dir.path, "run", "berth.sock");
  const seen: Peer[] = [];
  // Test-only modes so nobody gets past the filesystem and the server's own check is what stops it.
  const server = await listen({ socketPath: socket, routes: routes(seen), dirMode: 0o755, socketMode: 0o666 });
  try {
    const out = await runClient(socket, { uid: NOBODY, gid: NOBODY });
    assert.not.ok(out.ok);
    if (out.ok) return;
    assert.is(out.code, "unsupported");
    assert.ok(out.message.startsWith(`permission denied: uid ${NOBODY} (gid ${NOBODY}, pid ${out.pid}) may not use this socket`), out.message);
    assert.equal(seen, [], "no handler ran for the refused peer");
    // Root is still served on the same socket.
    assert.ok((await runClient(socket)).ok);
  } finally {
    await server.close();
    dir.remove();
  }
});

test("a gid listed in allowGids lets a non-root client in, with its own uid and gid", async () => {
  const dir = traversableDir();
  const socket = join(dir.path, "run", "berth.sock");
  const seen: Peer[] = [];
  const server = await listen({ socketPath: socket, routes: routes(seen), dirMode: 0o755, socketMode: 0o666, allowGids: [NOBODY] });
  try {
    const out = await runClient(socket, { uid: NOBODY, gid: NOBODY });
    assert.ok(out.ok, JSON.stringify(out));
    assert.equal(seen, [{ uid: NOBODY, gid: NOBODY, pid: out.pid }]);
  } finally {
    await server.close();
    dir.remove();
  }
});

test("socketGid gives the socket file to that group", async () => {
  const dir = traversableDir();
  const socket = join(dir.path, "run", "berth.sock");
  const server = await listen({ socketPath: socket, routes: routes([]), socketGid: NOBODY });
  try {
    const st = statSync(socket);
    assert.is(st.gid, NOBODY);
    assert.is(st.mode & 0o777, 0o660);
  } finally {
    await server.close();
    dir.remove();
  }
});

test("with the default modes nobody cannot connect at all", async () => {
  const dir = traversableDir();
  const socket = join(dir.path, "run", "berth.sock");
  const seen: Peer[] = [];
  const server = await listen({ socketPath: socket, routes: routes(seen) });
  try {
    const out = await runClient(socket, { uid: NOBODY, gid: NOBODY });
    assert.not.ok(out.ok);
    if (out.ok) return;
    assert.is(out.code, "unsupported");
    assert.match(out.message, /^permission denied connecting to /);
    assert.is(server.connections(), 0);
    assert.equal(seen, []);
  } finally {
    await server.close();
    dir.remove();
  }
});

test("without the addon the server refuses to start, naming the fix, and creates no socket", async () => {
  const dir = tempDir("berth-ipc-");
  try {
    let err: unknown;
    try {
      await listen({ socketPath: join(dir.path, "run", "berth.sock"), routes: {}, peercredAddon: join(dir.path, "missing.node") });
    } catch (e) {
      err = e;
    }
    assert.instance(err, BerthError);
    assert.is((err as BerthError).code, "internalError");
    assert.match((err as BerthError).message, /peer-credential addon not found .*scripts\/build-native\.sh/);
  } finally {
    dir.remove();
  }
});

test.run();
