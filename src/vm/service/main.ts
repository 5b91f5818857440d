// Entry of the runtime service process, started detached by src/vm/runtime.ts in one of two ways:
//   `node main.js <root> <id>`  boots container <id> at once;
//   `node main.js <root>`       starts warm (src/vm/service-pool.ts): it loads everything, says
//                               {"ready":true} on fd 3 and waits there for a claim {"id":"..."},
//                               so a bootstrap does not pay for Node's start-up. An idle warm
//                               service exits when its pool (the daemon) closes fd 3 or dies.
// Either way it answers one JSON line on fd 3 once the container is booted and its socket
// answers, {ok:true,endpoint} or {ok:false,error}, then closes fd 3 and lives on by itself.
// Imports are kept to what the service needs: Node start-up is most of its cost.
import fs from "node:fs";
import net from "node:net";
import { join } from "node:path";
import type { ContainerConfig } from "../../model/config.js";
import { toBerthError } from "../../model/errors.js";
import { isoTime } from "../../model/iso-time.js";
import { removeFile } from "../../host/remove-file.js";
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameReader, newCodec, PROTOCOL_VERSION } from "../../ipc/frame.js";
import { listen } from "../../ipc/server.js";
import type { DriverName } from "../driver.js";
import { createDriver } from "../drivers.js";
import { hostcalls } from "../hostcalls.js";
import { containerPaths } from "../paths.js";
import { readStartTime, type RuntimeEndpoint } from "../runtime-identity.js";
import { serviceRoutes } from "./routes.js";
import { RuntimeService } from "./service.js";

/** fd 3, the starter's pipe; absent when the service was started by hand. */
const starter: net.Socket | null = (() => {
  try {
    fs.fstatSync(3);
    return new net.Socket({ fd: 3, readable: true, writable: true });
  } catch {
    // No fd 3: started by hand, so nobody waits for the boot answer.
    return null;
  }
})();

function report(msg: unknown): void {
  // end() flushes the line, then closes fd 3: no runc child may inherit it.
  starter?.end(`${JSON.stringify(msg)}\n`);
}

/**
 * Loads and runs, while warm, what a boot would otherwise do first on the bootstrap's clock:
 * the native addons (dup2 at the claim, SO_PEERCRED at listen), the default (runc) driver's
 * module, and the IPC server's first connection.
 */
async function preload(root: string): Promise<void> {
  hostcalls();
  await import("../runc.js");
  // One call through a throwaway server: the first connection's handshake and call run code
  // nothing has run yet (measured 3-8 ms for the first connection, 1-2 for the next), and the
  // daemon connects right after every bootstrap.
  const dir = join(root, `.warm-${process.pid}`);
  try {
    const routes = { ping: { kind: "unary" as const, handler: () => ({ pong: true }) } };
    const server = await listen({ socketPath: join(dir, "s.sock"), routes, allowUids: allowedUids(), ...peercredOption() });
    await pingOnce(join(dir, "s.sock"));
    await server.close();
  } finally {
    // Not fs.rmSync, which would load its recursive remover for good (src/host/remove-file.ts),
    // unless a failed listen() left more than the socket behind.
    try {
      removeFile(join(dir, "s.sock"));
      fs.rmdirSync(dir);
    } catch {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** A hello and one call, written as frames by hand (the service has no use for a client). */
function pingOnce(socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const codec = newCodec();
    const reader = new FrameReader(DEFAULT_MAX_FRAME_BYTES);
    let frames = 0;
    const socket = net.createConnection(socketPath, () => {
      socket.write(encodeFrame(codec, { t: "hello", v: PROTOCOL_VERSION }));
      socket.write(encodeFrame(codec, { t: "req", id: 1, route: "ping", body: { warm: [1.5, "x", true, null] } }));
    });
    socket.on("data", (chunk: Buffer) => reader.push(chunk, (body) => {
      codec.unpack(body);
      if (++frames === 2) socket.end(resolve); // the server's hello, then the reply
    }));
    socket.on("error", reject);
  });
}

/** root and the service's own user (the daemon's) may connect. */
function allowedUids(): number[] {
  return [...new Set([0, process.getuid?.() ?? 0])];
}

/** A bundled entry outside the checkout cannot find the addon relative to itself. */
function peercredOption(): { peercredAddon?: string } {
  return process.env.BERTH_PEERCRED_ADDON ? { peercredAddon: process.env.BERTH_PEERCRED_ADDON } : {};
}

/** Waits for the pool's claim; exits quietly if the pool goes away first. */
function claim(): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const gone = () => process.exit(0);
    starter!.on("data", (b: Buffer) => {
      text += b.toString();
      const newline = text.indexOf("\n");
      if (newline < 0) return;
      starter!.off("end", gone).off("close", gone).pause();
      resolve((JSON.parse(text.slice(0, newline)) as { id: string }).id);
    });
    starter!.once("end", gone).once("close", gone);
    starter!.write(`${JSON.stringify({ ready: true })}\n`);
  });
}

async function boot(root: string, id: string): Promise<void> {
  const paths = containerPaths(root, id);
  const { config, driver: driverName, dynamicEnv } = JSON.parse(fs.readFileSync(paths.serviceConfig, "utf8")) as {
    config: ContainerConfig;
    driver: DriverName;
    dynamicEnv: Record<string, string>;
  };
  const driver = await createDriver(driverName, { root, id, config });
  await driver.prepare();
  const service = new RuntimeService(id, config, driver, paths, dynamicEnv ?? {});
  let exiting = false;
  const finish = () => {
    if (exiting) return;
    exiting = true;
    // Let the last reply reach its caller before the socket goes.
    // server.close() waits for connected clients; a client that never hangs up must not keep
    // the service alive, so the exit does not wait longer than a moment.
    const bye = () => {
      service.close();
      process.exit(0);
    };
    setTimeout(() => {
      void server.close().finally(bye);
      setTimeout(bye, 500).unref();
    }, 20);
  };
  service.onFinished = finish;
  service.onProcessStarted = collectWhenSettled();
  const server = await listen({ socketPath: paths.socket, routes: serviceRoutes(service, finish), allowUids: allowedUids(), ...peercredOption() });
  const endpoint: RuntimeEndpoint = { pid: process.pid, startTime: readStartTime(process.pid)!, socket: paths.socket, driver: driverName };
  fs.writeFileSync(`${paths.runtimeJson}.tmp`, JSON.stringify(endpoint));
  fs.renameSync(`${paths.runtimeJson}.tmp`, paths.runtimeJson);
  // SIGTERM to the service means "release everything", as a shutdown call would.
  process.on("SIGTERM", () => void service.shutdown().finally(finish));
  process.on("SIGHUP", () => {}); // the daemon's terminal going away must not end the container's service
  report({ ok: true, endpoint });
}

/** A full garbage collection: the service runs with --expose-gc (src/vm/service-pool.ts). */
const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Returns a trigger that runs one full garbage collection a second after its last call.
 * Starting a process leaves garbage that scavenges promote into the old generation, and only a
 * full collection frees it and gives its pages back. A service that then just waits allocates
 * almost nothing, so V8 never runs one by itself (its memory reducer starts only after one).
 * Measured: a service whose container runs holds about 1.2 MB less with it.
 */
function collectWhenSettled(): () => void {
  let timer: NodeJS.Timeout | undefined;
  return () => {
    if (!gc) return;
    clearTimeout(timer);
    timer = setTimeout(gc, 1000).unref();
  };
}

/** A claimed warm service writes its output to the container's runtime.log from here on. */
function adoptContainerLog(root: string, id: string): void {
  const log = fs.openSync(containerPaths(root, id).serviceLog, "a");
  hostcalls().dup2(log, 1);
  hostcalls().dup2(log, 2);
  fs.closeSync(log);
}

async function main(): Promise<void> {
  const [root, givenId] = process.argv.slice(2);
  if (!root) throw new Error("usage: main.js <root> [<id>]");
  let id = givenId;
  if (!id) {
    if (!starter) throw new Error("a warm service needs its pool's pipe on fd 3");
    await preload(root);
    // Loading and preloading left garbage; collected now, while nobody waits, the claimed
    // service boots into a clean heap (measured: its peak is about 0.7 MB lower).
    gc?.();
    id = await claim();
    adoptContainerLog(root, id);
  }
  console.log(`${isoTime(Date.now())} runtime service ${process.pid} booting ${id} (${givenId ? "started for it" : "claimed warm"})`);
  await boot(root, id);
}

main().catch((err) => {
  const e = toBerthError(err);
  console.error(`runtime service failed: ${e.code}: ${e.message}`);
  report({ ok: false, error: e.toJSON() });
  // Exit once the report is flushed (or at once without a starter).
  if (starter && !starter.destroyed) starter.once("close", () => process.exit(1));
  else process.exit(1);
});
