// Starting a container's runtime service. The service runs detached in its own session, with
// its output in <container dir>/runtime.log, so it outlives whoever started it (the daemon).
import fs from "node:fs";
import { join } from "node:path";
import type { ContainerConfig } from "../model/config.js";
import { BerthError, isErrorCode, type ErrorInfo } from "../model/errors.js";
import type { DriverName } from "./driver.js";
import { isDriverName } from "./driver.js";
import { containerPaths } from "./paths.js";
import { probeRuntime, readStartTime, type RuntimeEndpoint } from "./runtime-identity.js";
import { ServiceProcess, type ServicePool } from "./service-pool.js";

export { probeRuntime, readRuntimeEndpoint, readStartTime, type RuntimeEndpoint, type RuntimeProbe } from "./runtime-identity.js";
export { readExitRecords } from "./exits.js";
export { runcRoot, containerPaths, cgroupPath, cgroupDirs } from "./paths.js";
export { ServicePool, serviceCommand } from "./service-pool.js";

export interface StartRuntimeOptions {
  root: string;
  id: string;
  config: ContainerConfig;
  driver?: DriverName;
  dynamicEnv?: Record<string, string>;
  /** Bootstrap deadline; the busybox image is built on first use. Default 60 s. */
  timeoutMs?: number;
  /** Warm services to claim from; without one (or when it is empty) a service is spawned. */
  pool?: ServicePool;
}

/** A service a bootstrap has started and not yet heard from: the starter may die meanwhile. */
const startingFile = (root: string, id: string) => join(containerPaths(root, id).dir, "starting.json");

/**
 * Waits for a service that an earlier bootstrap started (by a daemon that died before its
 * answer) to finish booting, or to die, so a bootstrap performed again adopts it instead of
 * starting a second service beside it. One that does neither within `timeoutMs` is killed.
 */
export async function settleStartingService(root: string, id: string, timeoutMs = 60_000): Promise<void> {
  let starting: { pid: number; startTime: number | null };
  try {
    starting = JSON.parse(fs.readFileSync(startingFile(root, id), "utf8"));
  } catch {
    return; // no bootstrap was cut short
  }
  const running = () => starting.startTime !== null && readStartTime(starting.pid) === starting.startTime && !isZombie(starting.pid);
  const deadline = Date.now() + timeoutMs;
  while (running() && !probeRuntime(root, id).alive) {
    if (Date.now() > deadline) {
      try {
        process.kill(starting.pid, "SIGKILL");
      } catch {
        // it exited just now
      }
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  fs.rmSync(startingFile(root, id), { force: true });
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] === "Z";
  } catch {
    // Gone from /proc: as good as reaped.
    return true;
  }
}

/**
 * Starts the runtime service for one container (a warm one from `pool` when it has one) and
 * waits until it has booted the sandbox (bundle and rootfs ready; init not started) and its
 * socket answers. Bootstrap failures come back as the service's typed BerthError.
 */
export async function startRuntimeService(opts: StartRuntimeOptions): Promise<RuntimeEndpoint> {
  // opts.id is a journaled container id, checked once where its create was parsed (src/commands/parse.ts).
  const driver = opts.driver ?? "runc";
  if (!isDriverName(driver)) throw new BerthError("invalidArgument", `unknown driver ${JSON.stringify(driver)}: expected runc, process or fake`);
  const paths = containerPaths(opts.root, opts.id);
  const running = probeRuntime(opts.root, opts.id);
  if (running.alive) throw new BerthError("invalidState", `cannot bootstrap ${opts.id}: its runtime service (pid ${running.endpoint.pid}) is still running`);

  fs.mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(paths.dir, 0o700); // the IPC server refuses a socket directory others can enter
  fs.mkdirSync(paths.exits, { recursive: true });
  fs.rmSync(paths.runtimeJson, { force: true });
  fs.writeFileSync(paths.serviceConfig, JSON.stringify({ config: opts.config, driver, dynamicEnv: opts.dynamicEnv ?? {} }));
  const warm = opts.pool?.take();
  const service = warm ?? ServiceProcess.spawn(opts.root, opts.id, paths.serviceLog);
  if (warm) warm.claim(opts.id);
  const pid = service.child.pid!;
  fs.writeFileSync(startingFile(opts.root, opts.id), JSON.stringify({ pid, startTime: readStartTime(pid) }));
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let timedOut = false;
  const message = await service.bootAnswer(timeoutMs, () => {
    timedOut = true;
    service.child.kill("SIGKILL");
  });
  service.release();
  fs.rmSync(startingFile(opts.root, opts.id), { force: true });
  let reply: { ok: boolean; endpoint?: RuntimeEndpoint; error?: ErrorInfo };
  try {
    reply = JSON.parse(message ?? "");
  } catch {
    if (timedOut) throw new BerthError("timeout", `runtime service for ${opts.id} did not boot within ${timeoutMs} ms; see ${paths.serviceLog}`);
    const tail = fs.existsSync(paths.serviceLog) ? fs.readFileSync(paths.serviceLog, "utf8").split("\n").slice(-6).join("\n").trim() : "";
    throw new BerthError("internalError", `runtime service for ${opts.id} exited before booting: ${tail || "no output"}`);
  }
  if (!reply.ok || !reply.endpoint) {
    const e = reply.error;
    throw e && isErrorCode(e.code) ? BerthError.from(e) : new BerthError("internalError", "runtime service failed to boot");
  }
  return reply.endpoint;
}
