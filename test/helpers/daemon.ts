// A real daemon in a child process (so it can be killed with SIGKILL), a client per call,
// and a cleanup that leaves no runtime service, runc container or directory behind.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { join } from "node:path";
import { IpcClient } from "../../src/ipc/client.js";
import { RuntimeClient } from "../../src/ipc/runtime-client.js";
import type { BerthEvent, StoredEvent } from "../../src/events/catalogue.js";
import type { ContainerState } from "../../src/projections/container.js";
import { Journal } from "../../src/events/journal.js";
import { journalPath, socketPath } from "../../src/host/root-layout.js";
import { cleanup, pidAlive, runcList, tempRoot, waitFor } from "./vm-sandbox.js";

export { pidAlive, runcList, tempRoot, waitFor };

const repoDir = join(import.meta.dirname, "..", "..");
const main = join(repoDir, "src", "daemon", "main.ts");

export interface DaemonProcess {
  root: string;
  child: ChildProcess;
  output: () => string;
  /** A fresh client for one container. */
  client(id: string): Promise<RuntimeClient>;
  ipc(): Promise<IpcClient>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** The daemon from source by default; `command` runs another entry (e.g. `berth daemon`); `env` is added to the test's. */
export async function startDaemon(root: string, driver = "runc", command: string[] = ["--import", "tsx", main], env: Record<string, string> = {}): Promise<DaemonProcess> {
  // Tests not about networking run without one (docs/network.md): a network test names its own.
  // Only this checkout's daemon knows the flag: daemon-upgrade runs one from before networking.
  const thisCheckout = command.some((arg) => arg.startsWith(repoDir));
  const network = command.includes("--default-network") || !thisCheckout ? [] : ["--default-network", "none"];
  const child = spawn(process.execPath, [...command, "--root", root, "--driver", driver, ...network], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  let gone = false;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve(void (gone = true))));
  await Promise.race([
    // Polling stops when the daemon exits too, or a refused start would keep the test process alive.
    waitFor("the daemon to serve", () => output.includes("serving") || gone, 120_000),
    exited.then(() => {
      throw new Error(`the daemon exited: ${output}`);
    }),
  ]);
  const socket = socketPath(root);
  return {
    root,
    child,
    output: () => output,
    client: (id) => RuntimeClient.create({ id, socket, timeoutMs: 120_000 }),
    ipc: () => IpcClient.connect(socket, { timeoutMs: 120_000 }),
    async kill9() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Reads the whole journal of a root (read-only, while or after a daemon runs). */
export async function journalEvents(root: string): Promise<StoredEvent[]> {
  const journal = await Journal.open(journalPath(root), { readonly: true });
  try {
    return [...journal.readAll()];
  } finally {
    journal.close();
  }
}

/** Stops the daemon and every container it left, then removes the root. */
export async function cleanupDaemon(daemon: DaemonProcess | undefined, root: string): Promise<void> {
  await daemon?.stop().catch(() => {});
  const containers = fs.existsSync(join(root, "containers")) ? fs.readdirSync(join(root, "containers")) : [];
  await cleanup(root, containers);
}

export interface DaemonOptions {
  /** runc by default. */
  driver?: string;
  /** The daemon's entry and its flags before --root (the source daemon by default). */
  command?: string[];
  /** Added to the daemon's environment (the test process's own stays untouched). */
  env?: Record<string, string>;
  /** false: fn starts the first daemon itself, with frame.restart(). */
  start?: boolean;
}

/** What withDaemon hands its test: the root and the daemon serving it now. */
export interface DaemonFrame {
  readonly root: string;
  /** The current daemon (the one the last start or restart began). */
  readonly daemon: DaemonProcess;
  client(id: string): Promise<RuntimeClient>;
  ipc(): Promise<IpcClient>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Stops the current daemon if it still runs (SIGTERM; kill9() first for a crash), then starts
   * another on the same root, with the frame's options unless `with` overrides some.
   */
  restart(with_?: Omit<DaemonOptions, "start">): Promise<DaemonProcess>;
}

/**
 * Runs fn against a daemon on `root`, and always cleans up after it, even when fn throws: the
 * last daemon, every runtime service and runc container of the root, and the root itself.
 */
export async function withDaemon<T>(root: string, fn: (frame: DaemonFrame) => Promise<T>, opts: DaemonOptions = {}): Promise<T> {
  let current: DaemonProcess | undefined;
  const start = async (o: Omit<DaemonOptions, "start">) => {
    await current?.stop();
    current = await startDaemon(root, o.driver ?? opts.driver, o.command ?? opts.command, { ...opts.env, ...o.env });
    return current;
  };
  const live = () => {
    if (!current) throw new Error("withDaemon: no daemon started yet (call frame.restart())");
    return current;
  };
  const frame: DaemonFrame = {
    root,
    get daemon() {
      return live();
    },
    client: (id) => live().client(id),
    ipc: () => live().ipc(),
    kill9: () => live().kill9(),
    stop: () => live().stop(),
    restart: (with_ = {}) => start(with_),
  };
  try {
    if (opts.start !== false) await start({});
    return await fn(frame);
  } finally {
    await cleanupDaemon(current, root);
  }
}

/** Creates, boots and starts a container through the daemon, as three client calls; returns its state. */
export async function runContainer(daemon: DaemonFrame, id: string, config: Record<string, unknown>): Promise<ContainerState> {
  const rc = await daemon.client(id);
  try {
    await rc.createContainer(config as never);
    await rc.bootstrap();
    await rc.startProcess(id);
    return await rc.state<ContainerState>();
  } finally {
    rc.close();
  }
}

/** Creates and boots a container through the daemon: its sandbox is there, init created and not started. */
export async function bootContainer(daemon: DaemonFrame, id: string, config: Record<string, unknown>): Promise<void> {
  const rc = await daemon.client(id);
  try {
    await rc.createContainer(config as never);
    await rc.bootstrap();
  } finally {
    rc.close();
  }
}

/**
 * Appends events to a stream of a root whose daemon is already killed, as that daemon would have
 * journaled them: what a kill -9 between an intent and its outcome (or an event and its file) leaves.
 */
export async function journalAfterKill(root: string, streamId: string, events: BerthEvent[]): Promise<void> {
  const journal = await Journal.open(journalPath(root));
  try {
    journal.append(streamId, events, journal.streamVersion(streamId), { actor: { uid: 0, gid: 0, pid: process.pid } });
  } finally {
    journal.close();
  }
}
