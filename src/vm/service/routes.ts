// The runtime service's IPC routes: a thin mapping from frames to RuntimeService verbs.
import { UNSIZED_STOP } from "../../model/budget.js";
import type { Route } from "../../ipc/server.js";
import type { Exit } from "../../model/exit.js";
import type { LogQuery } from "../logs.js";
import type { RuntimeService } from "./service.js";

const HOUR = 3_600_000;

function obj(body: unknown): Record<string, unknown> {
  return body && typeof body === "object" ? (body as Record<string, unknown>) : {};
}

function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted ? Promise.resolve() : new Promise((r) => signal.addEventListener("abort", () => r(), { once: true }));
}

function logQuery(b: Record<string, unknown>): LogQuery {
  const q: LogQuery = {};
  if (typeof b.since === "number") q.since = b.since;
  if (typeof b.tail === "number" && b.tail >= 0) q.tail = Math.floor(b.tail);
  if (b.stdout === false) q.stdout = false;
  if (b.stderr === false) q.stderr = false;
  return q;
}

const exitKey = (r: Exit) => `${r.processId}\0${r.pid}\0${r.exitedAt}`;

export function serviceRoutes(svc: RuntimeService, afterShutdown: () => void): Record<string, Route> {
  return {
    state: { kind: "unary", handler: () => svc.state() },
    createProcess: { kind: "unary", handler: (b) => svc.createProcess(obj(b)) },
    startProcess: { kind: "unary", handler: (b) => svc.startProcess(obj(b)), deadlineMs: 5 * 60_000 },
    // Waiting for a SIGKILL'd process or a stop timeout can take as long as the caller allows.
    kill: { kind: "unary", handler: (b) => svc.kill(obj(b)), deadlineMs: HOUR },
    // Any grace the decider allows, then the SIGKILL and the teardown; the caller's own budget is shorter.
    stop: { kind: "unary", handler: (b) => svc.stop(obj(b)), deadlineMs: UNSIZED_STOP.teardownMs },
    statistics: { kind: "unary", handler: () => svc.driver.statistics() },
    pause: { kind: "unary", handler: () => svc.pause() },
    resume: { kind: "unary", handler: () => svc.resume() },
    ack: { kind: "unary", handler: (b) => svc.ack(obj(b)) },
    shutdown: {
      kind: "unary",
      deadlineMs: HOUR,
      handler: async () => {
        const s = await svc.shutdown();
        afterShutdown();
        return s;
      },
    },
    wait: {
      kind: "stream",
      handler: async (b, ctx) => {
        const rec = await Promise.race([svc.wait(obj(b).processId), aborted(ctx.signal).then(() => null)]);
        if (rec) ctx.emit(rec);
      },
    },
    exits: {
      kind: "stream",
      handler: async (b, ctx) => {
        const follow = obj(b).follow === true;
        const seen = new Set<string>();
        const send = (r: Exit) => {
          if (seen.has(exitKey(r))) return;
          seen.add(exitKey(r));
          ctx.emit(r);
        };
        const live: Exit[] = [];
        // Subscribe and read the directory in one tick: no exit can fall between the two.
        const off = svc.onExitRecorded((r) => live.push(r));
        try {
          for (const r of svc.exitsSnapshot()) send(r);
          live.splice(0).forEach(send);
          if (!follow) return;
          const stopLive = svc.onExitRecorded(send);
          off();
          await aborted(ctx.signal);
          stopLive();
        } finally {
          off();
        }
      },
    },
    logs: {
      kind: "stream",
      handler: async (b, ctx) => {
        const body = obj(b);
        const q = logQuery(body);
        if (body.follow !== true) {
          for (const e of svc.logEntries(q)) await ctx.emit(e);
          return;
        }
        await svc.followLogs(q, ctx.signal, (e) => ctx.emit(e));
      },
    },
  };
}
