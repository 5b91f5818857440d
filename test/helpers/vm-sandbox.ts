// Test helpers for the VM layer: a throwaway berth root, a booted container with a connected
// client, and a cleanup that leaves no service, runc container, cgroup or directory behind.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { validateConfig, type ContainerConfig } from "../../src/model/config.js";
import type { DriverName } from "../../src/vm/driver.js";
import { cgroupDirs, probeRuntime, runcRoot, startRuntimeService, type RuntimeEndpoint } from "../../src/vm/runtime.js";
import { ServiceClient } from "../../src/vm/service-client.js";
import { unmountUnder } from "../../src/vm/hostcalls.js";

/** A short root under /tmp: Unix socket paths are limited to 108 bytes. */
export function tempRoot(): string {
  return fs.mkdtempSync(join(os.tmpdir(), "bvm-"));
}

export function config(input: Record<string, unknown>, id: string): ContainerConfig {
  const v = validateConfig(input, id);
  if (!v.ok) throw new Error(`bad test config: ${v.error.message}`);
  return v.value;
}

export interface Booted {
  root: string;
  id: string;
  endpoint: RuntimeEndpoint;
  client: ServiceClient;
}

export async function boot(root: string, id: string, input: Record<string, unknown>, driver: DriverName = "runc"): Promise<Booted> {
  const endpoint = await startRuntimeService({ root, id, config: config(input, id), driver });
  const client = await ServiceClient.connect(endpoint.socket);
  return { root, id, endpoint, client };
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
    const probe = probeRuntime(root, id);
    if (probe.alive) {
      try {
        const c = await ServiceClient.connect(probe.endpoint.socket, { timeoutMs: 5000 });
        await c.shutdown().catch(() => {});
        c.close();
      } catch {
        /* fall through to SIGKILL */
      }
      await waitFor("service exit", () => !pidAlive(probe.endpoint.pid), 10_000).catch(() => {
        try {
          process.kill(probe.endpoint.pid, "SIGKILL");
        } catch {
          /* gone */
        }
      });
    }
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

/**
 * Kills what still runs with the root on its command line: warm runtime services that a killed
 * daemon left loading. One of them would otherwise make its `.warm-PID` directory after the
 * root's removal, recreating the root, and remove it again when it exits: an empty bvm- dir.
 */
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

/**
 * A warm runtime service still starting when its daemon stopped exits only once it reads the
 * end of its pipe, and may create its `.warm-PID` directory meanwhile: retry on ENOTEMPTY.
 */
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
  const { readLogs } = await import("../../src/vm/logs.js");
  const { containerPaths } = await import("../../src/vm/paths.js");
  const entries = readLogs(containerPaths(c.root, c.id)).filter((e) => e.p === processId);
  return { exitCode: exit.exitCode, stdout: entries.filter((e) => e.s === "stdout").map((e) => e.line), stderr: entries.filter((e) => e.s === "stderr").map((e) => e.line) };
}

/**
 * Runs helpers/vm-parent.ts (a stand-in daemon that starts a container's service and init) and
 * resolves with the first line it prints; the test SIGKILLs the parent when it wants.
 */
export async function spawnParent(root: string, id: string, args: string[], mode?: "warm"): Promise<{ parent: ChildProcess; line: string }> {
  const script = fileURLToPath(new URL("./vm-parent.ts", import.meta.url));
  const parent = spawn(process.execPath, ["--import", "tsx", script, root, id, JSON.stringify(args), ...(mode ? [mode] : [])], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    let text = "";
    parent.stdout!.on("data", (b: Buffer) => {
      text += b.toString();
      if (text.includes("\n")) resolve(text.split("\n")[0]!);
    });
    parent.once("exit", (code) => reject(new Error(`parent exited early (${code})`)));
  });
  return { parent, line };
}
