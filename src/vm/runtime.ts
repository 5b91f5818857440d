// Starting a container's runtime service. The service runs detached in its own session, with
// its output in <container dir>/runtime.log, so it outlives whoever started it (the daemon).
import { spawn } from "node:child_process";
import fs from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ContainerConfig } from "../commands/config.js";
import { validateId } from "../commands/config.js";
import { BerthError, isErrorCode, type ErrorInfo } from "../errors.js";
import type { DriverName } from "./driver.js";
import { isDriverName } from "./driver.js";
import { containerPaths } from "./paths.js";
import { probeRuntime, type RuntimeEndpoint } from "./runtime-identity.js";

export { probeRuntime, readRuntimeEndpoint, readStartTime, type RuntimeEndpoint, type RuntimeProbe } from "./runtime-identity.js";
export { readExitRecords, type ExitRecord } from "./exits.js";
export { runcRoot, containerPaths, cgroupPath, cgroupDirs } from "./paths.js";

export interface StartRuntimeOptions {
  root: string;
  id: string;
  config: ContainerConfig;
  driver?: DriverName;
  dynamicEnv?: Record<string, string>;
  /** Bootstrap deadline; the busybox image is built on first use. Default 60 s. */
  timeoutMs?: number;
}

// V8 flags that trim the service's memory: it holds little and lives long.
const SERVICE_NODE_FLAGS = ["--max-semi-space-size=1", "--max-old-space-size=64", "--stack-size=512"];

/**
 * How the service entry is run:
 * 1. BERTH_SERVICE_ENTRY (a .js or .mjs file, e.g. an esbuild bundle) if set;
 * 2. compiled: this module is dist/src/vm/runtime.js, so service/main.js sits next to it: plain node;
 * 3. from source (tests, tsx): service/main.ts through `--import tsx`, which costs start-up time.
 */
export function serviceCommand(): string[] {
  const override = process.env.BERTH_SERVICE_ENTRY;
  if (override) return [...SERVICE_NODE_FLAGS, override];
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".js")) return [...SERVICE_NODE_FLAGS, join(dirname(here), "service", "main.js")];
  // Resolved here, not by the child: the service runs with cwd "/", where tsx cannot be found.
  return [...SERVICE_NODE_FLAGS, "--import", import.meta.resolve("tsx"), join(dirname(here), "service", "main.ts")];
}

/**
 * Spawns the runtime service for one container and waits until it has booted the sandbox
 * (bundle and rootfs ready; init not started) and its socket answers. Bootstrap failures come
 * back as the service's typed BerthError.
 */
export async function startRuntimeService(opts: StartRuntimeOptions): Promise<RuntimeEndpoint> {
  const id = validateId(opts.id);
  if (!id.ok) throw new BerthError(id.error.code, id.error.message);
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
  const log = fs.openSync(paths.serviceLog, "a");
  let child;
  try {
    child = spawn(process.execPath, [...serviceCommand(), opts.root, opts.id], {
      detached: true,
      stdio: ["ignore", log, log, "pipe"],
      cwd: "/",
    });
  } finally {
    fs.closeSync(log);
  }
  const pipe = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
  const message = await new Promise<string>((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new BerthError("timeout", `runtime service for ${opts.id} did not boot within ${opts.timeoutMs ?? 60_000} ms; see ${paths.serviceLog}`));
    }, opts.timeoutMs ?? 60_000);
    pipe.on("data", (b: Buffer) => (text += b.toString()));
    pipe.on("end", () => {
      clearTimeout(timer);
      resolve(text);
    });
    pipe.on("error", () => {});
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new BerthError("internalError", `cannot spawn the runtime service: ${e.message}`));
    });
  });
  pipe.destroy();
  child.unref();
  let reply: { ok: boolean; endpoint?: RuntimeEndpoint; error?: ErrorInfo };
  try {
    reply = JSON.parse(message.trim().split("\n")[0] ?? "");
  } catch {
    const tail = fs.readFileSync(paths.serviceLog, "utf8").split("\n").slice(-6).join("\n").trim();
    throw new BerthError("internalError", `runtime service for ${opts.id} exited before booting: ${tail || "no output"}`);
  }
  if (!reply.ok || !reply.endpoint) {
    const e = reply.error;
    throw e && isErrorCode(e.code) ? new BerthError(e.code, e.message) : new BerthError("internalError", "runtime service failed to boot");
  }
  return reply.endpoint;
}
