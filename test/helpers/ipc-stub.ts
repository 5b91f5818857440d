// A stub daemon: every route the RuntimeClient calls, backed by a small in-memory table, and
// a log of each call's route, body and peer. It checks the IPC layer's plumbing (routes,
// bodies, replies, streams, errors); the real lifecycle lives in src/commands.
import { BerthError } from "../../src/model/errors.js";
import { requireFields } from "../../src/ipc/fields.js";
import type { Peer, Route } from "../../src/ipc/server.js";

export interface Recorded {
  route: string;
  body: Record<string, unknown>;
  peer: Peer;
}

interface Proc {
  args: string[];
  status: "created" | "running" | "exited";
  exitCode?: number;
  signal?: string;
  exitedAt?: string;
}
interface Box {
  status: string;
  processes: Record<string, Proc>;
}

const SIGNALS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15 };

export function stubDaemon(): { routes: Record<string, Route>; calls: Recorded[] } {
  const calls: Recorded[] = [];
  const boxes = new Map<string, Box>();
  const exitWaiters = new Map<string, Array<() => void>>();

  const box = (id: string) => {
    const b = boxes.get(id);
    if (!b) throw new BerthError("notFound", `no such container: ${id}`);
    return b;
  };
  const proc = (b: Box, id: string, pid: string) => {
    const p = b.processes[pid];
    if (!p) throw new BerthError("notFound", `no process ${pid} in container ${id}`);
    return p;
  };
  const exit = (id: string, pid: string, p: Proc, code: number, signal?: string) => {
    Object.assign(p, { status: "exited", exitCode: code, exitedAt: new Date(0).toISOString() }, signal ? { signal } : {});
    for (const w of exitWaiters.get(`${id}/${pid}`) ?? []) w();
    exitWaiters.delete(`${id}/${pid}`);
  };
  const unary = (fn: (b: Record<string, unknown>) => unknown): Route => ({
    kind: "unary",
    handler: (body, ctx) => {
      calls.push({ route: ctx.route, body: body as Record<string, unknown>, peer: ctx.peer });
      return fn(requireFields(body, { id: "string", commandId: "string?" }, ctx.route));
    },
  });

  const routes: Record<string, Route> = {
    create: unary((b) => {
      if (boxes.has(b.id as string)) throw new BerthError("exists", `container ${b.id} already exists`);
      const { config } = requireFields(b, { config: "object" }, "create");
      const init = requireFields(config.init, { args: "string[]" }, "create config.init");
      boxes.set(b.id as string, { status: "created", processes: { [b.id as string]: { args: init.args, status: "created" } } });
      return { id: b.id };
    }),
    bootstrap: unary((b) => {
      requireFields(b, { dynamicEnv: "record<string>?" }, "bootstrap");
      box(b.id as string).status = "booted";
      return null;
    }),
    createProcess: unary((b) => {
      const { processId, spec } = requireFields(b, { processId: "string", spec: "object" }, "createProcess");
      const { args } = requireFields(spec, { args: "string[]" }, "createProcess spec");
      box(b.id as string).processes[processId] = { args, status: "created" };
      return null;
    }),
    startProcess: unary((b) => {
      const { processId } = requireFields(b, { processId: "string" }, "startProcess");
      const c = box(b.id as string);
      proc(c, b.id as string, processId).status = "running";
      if (processId === b.id) c.status = "running";
      return null;
    }),
    state: unary((b) => ({ id: b.id, ...box(b.id as string) })),
    statistics: unary((b) => (box(b.id as string), { memoryUsageBytes: 1 << 20, cpuUsageUsec: 1234, numProcesses: 2 })),
    stop: unary((b) => {
      requireFields(b, { signal: "string?", timeoutInSeconds: "number?" }, "stop");
      const c = box(b.id as string);
      for (const [pid, p] of Object.entries(c.processes)) if (p.status === "running") exit(b.id as string, pid, p, 137, "SIGKILL");
      c.status = "stopped";
      return null;
    }),
    kill: unary((b) => {
      const { processId, signal } = requireFields(b, { processId: "string", signal: "string" }, "kill");
      const p = proc(box(b.id as string), b.id as string, processId);
      if (p.status !== "running") throw new BerthError("invalidState", `process ${processId} is ${p.status}, expected running`);
      exit(b.id as string, processId, p, 128 + (SIGNALS[signal] ?? 0), signal);
      return null;
    }),
    shutdown: unary((b) => ((box(b.id as string).status = "created"), null)),
    delete: unary((b) => (box(b.id as string), boxes.delete(b.id as string), null)),
    list: { kind: "unary", handler: () => [...boxes.keys()] },
    wait: {
      kind: "stream",
      handler: async (body, ctx) => {
        const { id, processId } = requireFields(body, { id: "string", processId: "string" }, "wait");
        calls.push({ route: "wait", body: body as Record<string, unknown>, peer: ctx.peer });
        const p = proc(box(id), id, processId);
        if (p.status !== "exited") {
          ctx.emit({ status: p.status }); // progress
          await new Promise<void>((resolve) => {
            const key = `${id}/${processId}`;
            exitWaiters.set(key, [...(exitWaiters.get(key) ?? []), resolve]);
            ctx.signal.addEventListener("abort", () => resolve(), { once: true });
          });
        }
        if (ctx.signal.aborted) return;
        ctx.emit({ exitCode: p.exitCode, exitedAt: p.exitedAt, oomKilled: false, ...(p.signal ? { signal: p.signal } : {}) });
      },
    },
    events: {
      kind: "stream",
      handler: async (body, ctx) => {
        const { fromPosition } = requireFields(body, { fromPosition: "integer?", follow: "boolean?" }, "events");
        calls.slice(fromPosition ?? 0).forEach((c, i) => ctx.emit({ position: i + 1, route: c.route }));
      },
    },
    logs: {
      kind: "stream",
      handler: async (body, ctx) => {
        const { id } = requireFields(body, { id: "string", tail: "integer?" }, "logs");
        box(id);
        ctx.emit({ stream: "stdout", line: "hello" });
        ctx.emit({ stream: "stderr", line: "warn" });
      },
    },
  };
  return { routes, calls };
}
