// Connections to the containers' runtime services, and the exit watchers that turn the exits
// they record into ProcessExited events exactly once. The dedupe key is (container, process,
// pid, exitedAt); the runtime service's record is acknowledged only after the event commits.
import { BerthError } from "../errors.js";
import type { ProcessExit } from "../events/catalogue.js";
import type { ExitRecord } from "../vm/exits.js";
import { probeRuntime } from "../vm/runtime.js";
import { ServiceClient } from "../vm/service-client.js";
import type { KeyedQueue } from "./keyed-queue.js";
import type { Store } from "./store.js";

export const exitKey = (processId: string, pid: number, exitedAt: number) => `${processId}:${pid}:${exitedAt}`;

export function toProcessExit(record: ExitRecord): ProcessExit {
  const exit: ProcessExit = { processId: record.processId, pid: record.pid, exitCode: record.exitCode, exitedAt: Date.parse(record.exitedAt), oomKilled: record.oomKilled };
  if (record.signal) exit.signal = record.signal;
  return exit;
}

interface Watched {
  client: ServiceClient;
  stream?: { cancel(): void };
}

export class Runtimes {
  private readonly connected = new Map<string, Watched>();
  private readonly journaledExits = new Map<string, Set<string>>();
  /** Called (on the container's queue) after an exit has been journaled. */
  onExit: (id: string, exit: ProcessExit) => Promise<void> = async () => {};

  constructor(readonly root: string, private readonly store: Store, private readonly queue: KeyedQueue) {}

  /** The service's client, connecting on first use. notFound when the service is gone. */
  async client(id: string): Promise<ServiceClient> {
    const known = this.connected.get(id);
    if (known) return known.client;
    const probe = probeRuntime(this.root, id);
    if (!probe.alive) throw new BerthError("notFound", `the runtime service of container ${id} is not running`);
    const client = await ServiceClient.connect(probe.endpoint.socket, { timeoutMs: 30_000 });
    this.connected.set(id, { client });
    return client;
  }

  /** Follows the service's exits: every recorded exit, then live ones. */
  async watch(id: string): Promise<void> {
    const client = await this.client(id);
    const watched = this.connected.get(id)!;
    if (watched.stream) return;
    const stream = client.exits(true);
    watched.stream = stream;
    void (async () => {
      try {
        for await (const record of stream) await this.queue.run(id, () => this.journalExit(id, record));
      } catch {
        // The service went away or the stream was cancelled; recovery or the next call finds out why.
      } finally {
        this.forget(id, client);
      }
    })();
  }

  /** Journals an exit unless it already is, then acknowledges it to the service. Returns true if new. */
  async journalExit(id: string, record: ExitRecord): Promise<boolean> {
    const exit = toProcessExit(record);
    const key = exitKey(exit.processId, exit.pid, exit.exitedAt);
    const seen = this.seen(id);
    const state = this.store.container(id);
    let fresh = false;
    const process = state?.processes[exit.processId];
    // Only the exit of a process this boot started (an old boot's record is history already).
    const belongs = process !== undefined && (process.status === "starting" || (process.status === "running" && process.pid === exit.pid));
    if (!seen.has(key) && belongs) {
      this.store.record(id, [{ type: "ProcessExited", data: exit }]);
      fresh = true;
    }
    seen.add(key);
    const client = this.connected.get(id)?.client;
    if (client) await client.ack(exit.processId, exit.pid).catch(() => {});
    if (fresh) await this.onExit(id, exit);
    return fresh;
  }

  /** Exit keys already in the journal for this container (read once, then kept up to date). */
  private seen(id: string): Set<string> {
    let keys = this.journaledExits.get(id);
    if (!keys) {
      keys = new Set();
      for (const e of this.store.journal.readStream(`container-${id}`)) {
        if (e.type === "ProcessExited") keys.add(exitKey(e.data.processId, e.data.pid, e.data.exitedAt));
      }
      this.journaledExits.set(id, keys);
    }
    return keys;
  }

  private forget(id: string, client: ServiceClient): void {
    if (this.connected.get(id)?.client === client) this.connected.delete(id);
    client.close();
  }

  drop(id: string): void {
    const watched = this.connected.get(id);
    if (!watched) return;
    this.connected.delete(id);
    watched.stream?.cancel();
    watched.client.close();
  }

  closeAll(): void {
    for (const id of [...this.connected.keys()]) this.drop(id);
  }
}
