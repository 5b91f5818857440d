// Child-process roles for the IPC tests, run as `node --import tsx test/helpers/ipc-child.ts ROLE ...`.
// Real processes are needed for what a test cannot fake in-process: a server killed with
// SIGKILL, a client running as another uid, a client that dies mid-stream, and a fuzz target
// whose memory is measured apart from the test's own garbage.
import v8 from "node:v8";
import vm from "node:vm";
import { IpcClient } from "../../src/ipc/client.js";
import { requireFields } from "../../src/ipc/fields.js";
import { listen, type Route } from "../../src/ipc/server.js";
import { Journal } from "../../src/events/journal.js";
import { dispatch } from "../../src/daemon/dispatch.js";
import { fold } from "../../src/projections/index.js";
import { BerthError, toBerthError } from "../../src/model/errors.js";
import { parseCommand } from "../../src/commands/parse.js";

const [role, socketPath, ...rest] = process.argv.slice(2);
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function server(): Promise<void> {
  const opts = rest[0] ? (JSON.parse(rest[0]) as { dirMode?: number; socketMode?: number }) : {};
  await listen({
    socketPath: socketPath!,
    ...opts,
    routes: { ping: { kind: "unary", handler: (_b, ctx) => ({ pong: true, serverPid: process.pid, peer: ctx.peer }) } },
  });
  print({ ready: true, pid: process.pid });
}

/** A server with a `create` route that validates and appends through the real journal. */
async function fuzzTarget(): Promise<void> {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const journal = await Journal.open(rest[0]!);
  const projection = fold(journal.readAll());
  const routes: Record<string, Route> = {
    create: {
      kind: "unary",
      handler: (body, ctx) => {
        const b = requireFields(body, { id: "string", config: "object", commandId: "string?" }, "create");
        const meta = { actor: ctx.peer, ...(b.commandId !== undefined ? { commandId: b.commandId } : {}) };
        const command = parseCommand("create", b);
        if (!command.ok) throw BerthError.from(command.error);
        const { events } = dispatch(journal, projection, command.value, meta);
        return { position: events.at(-1)?.position ?? null };
      },
    },
    state: {
      kind: "unary",
      handler: (body) => {
        const { id } = requireFields(body, { id: "string" }, "state");
        return projection.containers[id] ?? null;
      },
    },
    head: { kind: "unary", handler: () => journal.head().position },
    memory: {
      kind: "unary",
      handler: () => {
        gc();
        const m = process.memoryUsage();
        // Minus one: this memory call is itself in flight.
        return { rss: m.rss, heapUsed: m.heapUsed, inFlight: srv.inFlight() - 1, connections: srv.connections() };
      },
    },
  };
  const srv = await listen({ socketPath: socketPath!, routes });
  process.on("SIGTERM", () => {
    void srv.close().then(() => {
      journal.close();
      process.exit(0);
    });
  });
  print({ ready: true, pid: process.pid });
}

async function client(): Promise<void> {
  try {
    const c = await IpcClient.connect(socketPath!, { timeoutMs: 10_000 });
    const result = await c.call(rest[0] ?? "ping", rest[1] ? JSON.parse(rest[1]) : {});
    c.close();
    print({ ok: true, result, pid: process.pid });
  } catch (err) {
    const e = toBerthError(err);
    print({ ok: false, code: e.code, message: e.message, pid: process.pid });
  }
}

/** Opens a stream, reports the first item, then waits to be killed. */
async function streamClient(): Promise<void> {
  const c = await IpcClient.connect(socketPath!, { timeoutMs: 10_000 });
  for await (const item of c.stream(rest[0] ?? "ticks", {})) {
    print({ first: item, pid: process.pid });
    await new Promise(() => {}); // parked until the parent kills us
  }
}

const roles: Record<string, () => Promise<void>> = { server, "fuzz-target": fuzzTarget, client, "stream-client": streamClient };
const run = roles[role ?? ""];
if (!run) {
  console.error(`unknown role ${role}`);
  process.exit(2);
}
run().catch((err) => {
  console.error(err);
  process.exit(1);
});
