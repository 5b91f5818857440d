// Connections to the containers' runtime services, and the exit watchers that turn the exits
// they record into ProcessExited events exactly once. The dedupe key is (container, process,
// pid, exitedAt); the runtime service's record is acknowledged only after the event commits,
// and the daemon writes its own ack file beside it, a witness of the event's position.
import { BerthError } from "../model/errors.js";
import type { Exit } from "../model/exit.js";
import { containerStream } from "../events/catalogue.js";
import { hasExitAck, writeExitAck } from "../vm/exits.js";
import { containerPaths } from "../vm/paths.js";
import { probeRuntime } from "../vm/runtime.js";
import { ServiceClient } from "../vm/service-client.js";
import type { KeyedQueue } from "./keyed-queue.js";
import type { Store } from "./store.js";

export const exitKey = (processId: string, pid: number, exitedAt: number) => `${processId}:${pid}:${exitedAt}`;

export type ExitListener = (id: string, exit: Exit) => Promise<void>;

interface Watched {
  client: ServiceClient;
  stream?: { cancel(): void };
}

export class Runtimes {
  private readonly connected = new Map<string, Watched>();
  /** Per container: exit key → position of its ProcessExited event. */
  private readonly journaledExits = new Map<string, Map<string, number>>();
  /** Told (on the container's queue) after an exit has been journaled; see setExitListener. */
  private onExit: ExitListener = async () => {};

  constructor(readonly root: string, private readonly store: Store, private readonly queue: KeyedQueue) {}

  /** The daemon wires the reactor here (it finishes a stop once init's exit is journaled). */
  setExitListener(listener: ExitListener): void {
    this.onExit = listener;
  }

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

  /**
   * A connection of its own to the service, which the caller closes: for a stream that may push
   * back (a followed log). Pausing the shared connection would hold up the replies and exits
   * behind it: an attached `run` whose CLI reads no output until its start has answered waited
   * for a start reply stuck behind its own output.
   */
  async dedicatedClient(id: string): Promise<ServiceClient> {
    const probe = probeRuntime(this.root, id);
    if (!probe.alive) throw new BerthError("notFound", `the runtime service of container ${id} is not running`);
    return ServiceClient.connect(probe.endpoint.socket, { timeoutMs: 30_000 });
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
  async journalExit(id: string, exit: Exit): Promise<boolean> {
    const key = exitKey(exit.processId, exit.pid, exit.exitedAt);
    const seen = this.seen(id);
    const state = this.store.container(id);
    let fresh = false;
    const process = state?.processes[exit.processId];
    // Only the exit of a process this boot started (an old boot's record is history already).
    const belongs = process !== undefined && (process.status === "starting" || (process.status === "running" && process.pid === exit.pid));
    if (!seen.has(key) && belongs) {
      seen.set(key, this.store.record(id, [{ type: "ProcessExited", data: exit }])[0]!.position);
      fresh = true;
    }
    this.witness(id, exit, seen.get(key));
    const client = this.connected.get(id)?.client;
    // The ack only lets the service drop its record early; an unacked record is acked again on reattach.
    if (client) await client.ack(exit.processId, exit.pid).catch(() => {});
    if (fresh) await this.onExit(id, exit);
    return fresh;
  }

  /**
   * Writes the ack file of a journaled exit (once): the position and chain hash of its event.
   * Also after a crash between the commit and the write, since the position is known here.
   */
  private witness(id: string, exit: Exit, position: number | undefined): void {
    const exitsDir = containerPaths(this.root, id).exits;
    if (position === undefined || !this.store.container(id) || hasExitAck(exitsDir, exit)) return;
    const hash = this.store.journal.hashAt(position);
    if (!hash) return;
    try {
      writeExitAck(exitsDir, { processId: exit.processId, pid: exit.pid, exitedAt: exit.exitedAt, position, hash: hash.toString("hex") });
    } catch (err) {
      // The exit is journaled; only the witness is missing, which costs the loss check one proof.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // the container's directory is gone
      console.error(`berth daemon: cannot write the ack of ${id}/${exit.processId}: ${(err as Error).message}`);
    }
  }

  /**
   * Exit keys already in the journal for this container, with their positions: read once, for
   * the exits an earlier daemon process journaled (a service replays every unacknowledged
   * record to the next one), then kept up to date from what this one records.
   */
  private seen(id: string): Map<string, number> {
    let keys = this.journaledExits.get(id);
    if (!keys) {
      keys = new Map();
      for (const e of this.store.journal.query({ streamId: containerStream(id), types: ["ProcessExited"] })) {
        if (e.type === "ProcessExited") keys.set(exitKey(e.data.processId, e.data.pid, e.data.exitedAt), e.position);
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
