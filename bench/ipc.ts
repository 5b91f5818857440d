// IPC benchmark: the latency (p50, p99) and throughput of a `state` call through berth's IPC
// (IpcClient → server → route returning a realistic container snapshot) against two minimal
// baselines measured in the same run, with the same framing and codec:
//   - raw-reply: a bare server that decodes the request and replies {id, result: snapshot}
//     (the same bytes on the wire as berth: what berth's framework costs on top of msgpack);
//   - echo: a bare msgpack echo (the client sends the snapshot, the server sends it back).
// Each server runs in its own child process, so client and server have their own event loops.
// Rounds alternate between the three and the medians over rounds are reported.
//
//   node --import tsx bench/ipc.ts [--rounds 5] [--requests 20000]
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { IpcClient } from "../src/ipc/client.js";
import { requireFields } from "../src/ipc/fields.js";
import { FrameReader, encodeFrame, newCodec } from "../src/ipc/frame.js";
import { listen } from "../src/ipc/server.js";

const SELF = fileURLToPath(import.meta.url);
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

/** A snapshot shaped like ContainerState: config, three processes, pending intents. */
function snapshot(): Record<string, unknown> {
  const spec = (args: string[]) => ({
    args,
    env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", HOME: "/root", HOSTNAME: "web" },
    cwd: "/",
    rlimits: [{ type: "RLIMIT_NOFILE", soft: 1024, hard: 1024 }],
    terminal: false,
  });
  return {
    id: "web",
    status: "running",
    config: {
      rootfs: { image: "busybox" },
      init: spec(["/bin/sh", "-c", "httpd -f -p 8080"]),
      hostname: "web",
      resources: { memoryBytes: 268435456, cpus: 1.5, pids: 512 },
      readOnlyRootfs: false,
      mounts: [{ source: "/srv/data", destination: "/data", readOnly: true }],
      network: "none",
      stopSignal: "SIGTERM",
      stopTimeoutSeconds: 10,
      labels: { app: "web", tier: "frontend", "com.example.owner": "ops" },
      restart: { name: "on-failure", maxRetries: 3 },
    },
    version: 42,
    position: 1042,
    createdAt: 1764331200000,
    runtime: { socket: "/run/berth/containers/web/runtime.sock", pid: 4242 },
    processes: {
      web: { id: "web", spec: spec(["/bin/sh", "-c", "httpd -f -p 8080"]), status: "running", pid: 4243, startedAt: 1764331201000 },
      "exec-1": { id: "exec-1", spec: spec(["ls", "-la"]), status: "exited", pid: 4300, startedAt: 1764331300000, exitCode: 0, exitedAt: 1764331300050, oomKilled: false },
      "exec-2": { id: "exec-2", spec: spec(["sleep", "1000"]), status: "exited", pid: 4301, startedAt: 1764331400000, exitCode: 137, signal: "SIGKILL", exitedAt: 1764331401000, oomKilled: false },
    },
    pid: 4243,
    startedAt: 1764331201000,
    restartCount: 0,
    stopRequested: false,
    pending: [],
  };
}

// ---- servers (child process) -------------------------------------------------------------

async function serve(kind: string, socket: string): Promise<void> {
  const snap = snapshot();
  if (kind === "berth") {
    await listen({
      socketPath: socket,
      routes: { state: { kind: "unary", handler: (body) => (requireFields(body, { id: "string" }, "state"), snap) } },
    });
  } else {
    // Minimal code: same framing and codec, no handshake, no routing, no deadlines, no peer check.
    const server = createServer((s) => {
      const codec = newCodec();
      const reader = new FrameReader(4 * 1024 * 1024);
      s.on("data", (d: Buffer) =>
        reader.push(d, (body) => {
          const msg = codec.unpack(body) as { id: number };
          s.write(encodeFrame(codec, kind === "echo" ? msg : { t: "res", id: msg.id, result: snap }));
        }),
      );
    });
    await new Promise<void>((r) => server.listen(socket, r));
  }
  process.stdout.write("ready\n");
}

// ---- clients -------------------------------------------------------------------------------

type Caller = { call(): Promise<unknown>; close(): void };

async function rawCaller(socket: string, payload: (id: number) => unknown): Promise<Caller> {
  const s: Socket = await new Promise((resolve) => {
    const c = createConnection(socket, () => resolve(c));
  });
  const codec = newCodec();
  const reader = new FrameReader(4 * 1024 * 1024);
  const pending = new Map<number, (v: unknown) => void>();
  let next = 1;
  s.on("data", (d: Buffer) =>
    reader.push(d, (body) => {
      const msg = codec.unpack(body) as { id: number };
      pending.get(msg.id)?.(msg);
      pending.delete(msg.id);
    }),
  );
  return {
    call: () =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        s.write(encodeFrame(codec, payload(id)));
      }),
    close: () => s.destroy(),
  };
}

async function berthCaller(socket: string): Promise<Caller> {
  const c = await IpcClient.connect(socket);
  return { call: () => c.call("state", { id: "web" }), close: () => c.close() };
}

async function measure(caller: Caller, requests: number): Promise<{ p50: number; p99: number; rps: number }> {
  for (let i = 0; i < 2000; i++) await caller.call(); // warm-up: JIT and socket buffers
  const lat = new Float64Array(requests);
  for (let i = 0; i < requests; i++) {
    const t0 = process.hrtime.bigint();
    await caller.call();
    lat[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  lat.sort();
  // Throughput with 8 calls in flight, as the daemon sees with several clients.
  const t0 = process.hrtime.bigint();
  let left = requests;
  await Promise.all(Array.from({ length: 8 }, async () => { while (left-- > 0) await caller.call(); }));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { p50: lat[Math.floor(requests * 0.5)]!, p99: lat[Math.floor(requests * 0.99)]!, rps: requests / secs };
}

function startServer(kind: string, socket: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", SELF, "serve", kind, socket], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.stdout!.once("data", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const rounds = arg("rounds", 5);
  const requests = arg("requests", 20000);
  const dir = mkdtempSync(join(tmpdir(), "berth-bench-ipc-"));
  const children: ChildProcess[] = [];
  const snap = snapshot();
  const kinds = ["berth", "raw-reply", "echo"] as const;
  const results: Record<string, Array<{ p50: number; p99: number; rps: number }>> = { berth: [], "raw-reply": [], echo: [] };
  try {
    const sockets: Record<string, string> = {};
    for (const kind of kinds) {
      sockets[kind] = join(dir, kind === "berth" ? "run/berth.sock" : `${kind}.sock`);
      children.push(await startServer(kind, sockets[kind]!));
    }
    console.log(`state snapshot: ${newCodec().pack(snap).length} bytes of msgpack; ${rounds} rounds × ${requests} requests`);
    for (let r = 0; r < rounds; r++) {
      // Rotate the order so no variant always runs first (or last) on a noisy machine.
      for (const kind of [...kinds.slice(r % 3), ...kinds.slice(0, r % 3)]) {
        const caller =
          kind === "berth" ? await berthCaller(sockets[kind]!)
          : kind === "raw-reply" ? await rawCaller(sockets[kind]!, (id) => ({ t: "req", id, route: "state", body: { id: "web" } }))
          : await rawCaller(sockets[kind]!, (id) => ({ id, result: snap }));
        results[kind]!.push(await measure(caller, requests));
        caller.close();
      }
    }
    const summary = Object.fromEntries(
      kinds.map((k) => [k, { p50: median(results[k]!.map((x) => x.p50)), p99: median(results[k]!.map((x) => x.p99)), rps: median(results[k]!.map((x) => x.rps)) }]),
    );
    for (const k of kinds) {
      const s = summary[k]!;
      console.log(`${k.padEnd(10)} p50 ${s.p50.toFixed(0).padStart(4)} µs   p99 ${s.p99.toFixed(0).padStart(4)} µs   ${Math.round(s.rps).toString().padStart(6)} req/s (8 in flight)`);
    }
    const b = summary.berth!;
    for (const base of ["raw-reply", "echo"] as const) {
      const s = summary[base]!;
      console.log(`berth / ${base}: p50 ${(b.p50 / s.p50).toFixed(2)}×, p99 ${(b.p99 / s.p99).toFixed(2)}×, throughput ${(b.rps / s.rps).toFixed(2)}×`);
    }
    const target = b.p99 / summary.echo!.p99;
    console.log(`target p99 ≤ 1.5× echo: ${target <= 1.5 ? "met" : "NOT met"} (${target.toFixed(2)}×)`);
  } finally {
    for (const c of children) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "serve") void serve(process.argv[3]!, process.argv[4]!);
else await main();
