// Test helpers for the VM layer: a throwaway berth root, a booted container with a connected
// runtime service, and a cleanup that leaves no conmon, runc container, cgroup or directory behind.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { validateConfig, validateProcessSpec, type ContainerConfig } from "../../src/model/config.js";
import { RuntimeService } from "../../src/daemon/runtime-service.js";
import type { RuntimeEndpoint } from "../../src/events/catalogue.js";
import { PRIVATE_NETWORK, type DriverName } from "../../src/vm/driver.js";
import { unmountUnder } from "../../src/vm/hostcalls.js";
import { readLogs, processLogPath } from "../../src/vm/logs.js";
import { cgroupDirs, containerPaths, runcRoot } from "../../src/vm/paths.js";
import { processFiles, readRecordedExit } from "../../src/vm/conmon.js";

/** A short root under /tmp: Unix socket paths are limited to 108 bytes. */
export function tempRoot(): string {
  return fs.mkdtempSync(join(os.tmpdir(), "bvm-"));
}

export function config(input: Record<string, unknown>, id: string): ContainerConfig {
  const v = validateConfig({ network: "none", ...input }, id);
  if (!v.ok) throw new Error(`bad test config: ${v.error.message}`);
  return v.value;
}

export interface Booted {
  root: string;
  id: string;
  endpoint: RuntimeEndpoint;
  client: TestClient;
}

/**
 * The container's runtime service (src/daemon/runtime-service.ts), in this test process as in
 * the daemon, with the specs a test writes by hand ({ args }) filled in as the daemon's parse would.
 */
export class TestClient {
  constructor(readonly service: RuntimeService) {}
  state() {
    return this.service.state();
  }
  createProcess(processId: string, spec: Record<string, unknown>) {
    const v = validateProcessSpec(spec, `process ${processId}`);
    if (!v.ok) throw new Error(v.error.message);
    return this.service.createProcess(processId, v.value);
  }
  startProcess(processId: string) {
    return this.service.startProcess(processId);
  }
  kill(processId: string, signal = "SIGKILL") {
    return this.service.kill(processId, signal);
  }
  stop(opts: { signal?: string; timeoutInSeconds?: number } = {}) {
    return this.service.stop(opts);
  }
  statistics() {
    return this.service.statistics();
  }
  wait(processId: string) {
    return this.service.wait(processId);
  }
  shutdown() {
    return this.service.shutdown();
  }
  /** Stops following (the sandbox goes on under conmon, as when the daemon closes). */
  close() {
    this.service.close();
  }
}

const booted = new Map<string, RuntimeService>();

export async function boot(root: string, id: string, input: Record<string, unknown>, driver: DriverName = "runc"): Promise<Booted> {
  const service = await RuntimeService.boot({ root, id, config: config(input, id), driver, dynamicEnv: {}, network: PRIVATE_NETWORK });
  booted.set(`${root}\0${id}`, service);
  return { root, id, endpoint: service.endpoint(), client: new TestClient(service) };
}

/** Polls until fn returns a truthy value (no timing assertions: the deadline only stops a hang). */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, deadlineMs = 30_000): Promise<NonNullable<T>> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function runcList(root: string): string[] {
  const out = execFileSync("runc", ["--root", runcRoot(root), "list", "-q"], { encoding: "utf8" });
  return out.split("\n").filter(Boolean);
}

/** Tears everything down, whatever state the test left it in, then removes the root. */
export async function cleanup(root: string, ids: string[]): Promise<void> {
  for (const id of ids) {
    const service = booted.get(`${root}\0${id}`);
    booted.delete(`${root}\0${id}`);
    await service?.shutdown().catch(() => {});
    service?.close();
  }
  try {
    for (const cid of runcList(root)) execFileSync("runc", ["--root", runcRoot(root), "delete", "--force", cid]);
  } catch {
    /* no runc root */
  }
  for (const id of ids) for (const d of cgroupDirs(root, id)) fs.rmSync(d, { recursive: false, force: true });
  await endStrays(root);
  await removeRoot(root);
}

/** Kills what still runs with the root on its command line: the conmons of a sandbox a test left behind. */
async function endStrays(root: string): Promise<void> {
  const pids: number[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // it exited while we looked
    }
    if (args.some((a) => a === root || a.startsWith(`${root}/`))) pids.push(Number(name));
  }
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  // A zombie is as good as gone: it holds no directory and makes none.
  const running = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  };
  await waitFor("stray processes to exit", () => !pids.some(running), 10_000);
}

/** A process that was still exiting may hold a file open a moment longer: retry on ENOTEMPTY. */
async function removeRoot(root: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    unmountUnder(root);
    try {
      fs.rmSync(root, { recursive: true, force: true });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOTEMPTY" || attempt >= 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Runs a process in a running container and returns its exit and its output lines. */
export async function execOutput(c: Booted, processId: string, args: string[]): Promise<{ exitCode: number; stdout: string[]; stderr: string[] }> {
  await c.client.createProcess(processId, { args });
  await c.client.startProcess(processId);
  const exit = await c.client.wait(processId);
  const entries = readLogs([{ processId, path: processLogPath(containerPaths(c.root, c.id).logs, processId) }]);
  return { exitCode: exit.exitCode, stdout: entries.filter((e) => e.s === "stdout").map((e) => e.line), stderr: entries.filter((e) => e.s === "stderr").map((e) => e.line) };
}

/** What conmon recorded of a process's exit (its exit file), whoever watched. */
export function recordedExit(root: string, id: string, processId: string) {
  return readRecordedExit(processFiles(containerPaths(root, id).dir, id, processId));
}

/** A process's log file (conmon's k8s-file). */
export function processLog(root: string, id: string, processId = id): { processId: string; path: string }[] {
  return [{ processId, path: processLogPath(containerPaths(root, id).logs, processId) }];
}
