// The reactor: turns intents into effects through the runtime services, and journals each
// outcome with the intent as its causation. Every effect first checks that its intent is still
// pending, and probes reality before acting ("is the service already up? is the process
// already started?"), so an intent performed twice (after a crash) never acts twice.
import { rmSync } from "node:fs";
import type { DriverName } from "../vm/driver.js";
import type { ServicePool } from "../vm/service-pool.js";
import { containerDir, containerPaths } from "../vm/paths.js";
import { releaseContainerRootfs } from "../vm/rootfs.js";
import { probeRuntime, readExitRecords, settleStartingService, startRuntimeService } from "../vm/runtime.js";
import { errorInfo, type ErrorInfo } from "../model/errors.js";
import type { Exit } from "../model/exit.js";
import { containerIdOf, type ContainerEvent, type StoredEvent } from "../events/catalogue.js";
import type { KeyedQueue } from "./keyed-queue.js";
import { nextRestart } from "./restart.js";
import type { Runtimes } from "./runtimes.js";
import { startContainer } from "./start-operation.js";
import type { Store } from "./store.js";
import { allows } from "../model/lifecycle.js";
import { SERVICE_EXIT_MS, stopBudget } from "../model/budget.js";
import { stopwatch } from "./stopwatch.js";

type Intent<T extends ContainerEvent["type"]> = StoredEvent<Extract<ContainerEvent, { type: T }>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when `done` resolves within `ms`, false after; the timer goes either way (a grace can be a day). */
async function within(done: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([done.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export class Reactor {
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  /** Containers a client is deleting (with force: stop, then delete): no auto-remove in between. */
  private readonly clientDeletes = new Map<string, number>();
  /** Containers whose --rm removal waits until an attached `run` has relayed their output (run-route.ts). */
  private readonly removalHolds = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly runtimes: Runtimes,
    private readonly queue: KeyedQueue,
    private readonly options: { root: string; driver: DriverName; pool?: ServicePool },
  ) {}

  /**
   * Performs the effect of one journaled event. Call it on the container's queue. Returns the
   * outcome it journaled for an intent; undefined when the event asks for no effect, or the
   * intent was no longer pending (its outcome is then Store.outcomeOf's to tell).
   */
  async effect(event: StoredEvent): Promise<StoredEvent | undefined> {
    const id = containerIdOf(event.streamId);
    if (id === undefined) return; // intents live on containers' streams; the daemon's own events ask for nothing
    const e = event as StoredEvent<ContainerEvent>;
    switch (e.type) {
      case "BootstrapRequested":
        return this.bootstrap(id, e as Intent<"BootstrapRequested">);
      case "ProcessStartRequested":
        return this.startProcess(id, e as Intent<"ProcessStartRequested">);
      case "SignalSent":
        await this.signal(id, e as Intent<"SignalSent">);
        return undefined;
      case "StopRequested":
        return this.stop(id, e as Intent<"StopRequested">);
      case "ShutdownRequested":
        return this.shutdown(id, e as Intent<"ShutdownRequested">);
      case "ContainerDeleted":
        await this.cleanUp(id);
        return undefined;
      case "PauseRequested":
      case "UnpauseRequested":
        return this.freeze(id, e as Intent<"PauseRequested" | "UnpauseRequested">);
      default:
        return undefined;
    }
  }

  private pending(id: string, intent: StoredEvent): boolean {
    return this.store.container(id)?.pending.some((p) => p.eventId === intent.eventId) ?? false;
  }

  /** Journals the outcome of `intent` (caused by it, in its correlation) and returns it. */
  private outcome(id: string, intent: StoredEvent, event: ContainerEvent): StoredEvent {
    const meta: { causationId: string; correlationId?: string } = { causationId: intent.eventId };
    if (intent.correlationId) meta.correlationId = intent.correlationId;
    return this.store.record(id, [event], meta)[0]!;
  }

  private async bootstrap(id: string, intent: Intent<"BootstrapRequested">): Promise<StoredEvent | undefined> {
    if (!this.pending(id, intent)) return undefined;
    const state = this.store.container(id)!;
    let booted: StoredEvent | undefined;
    try {
      // A service the dead daemon started for this intent may still be booting: adopt it.
      await settleStartingService(this.options.root, id);
      const probe = probeRuntime(this.options.root, id);
      const runtime = probe.alive
        ? probe.endpoint
        : await startRuntimeService({ root: this.options.root, id, config: state.config, driver: this.options.driver, dynamicEnv: intent.data.dynamicEnv, pool: this.options.pool });
      booted = this.outcome(id, intent, { type: "ContainerBooted", data: { runtime } });
      await this.runtimes.watch(id);
      return booted;
    } catch (err) {
      const failed = this.outcome(id, intent, { type: "BootstrapFailed", data: { error: errorInfo(err) } });
      await this.autoRemove(id);
      // A watch that failed after the boot was journaled: the intent's outcome is still the first.
      return booted ?? failed;
    }
  }

  private async startProcess(id: string, intent: Intent<"ProcessStartRequested">): Promise<StoredEvent | undefined> {
    if (!this.pending(id, intent)) return undefined;
    const { processId } = intent.data;
    const state = this.store.container(id)!;
    try {
      const client = await this.runtimes.client(id);
      const known = (await client.state()).processes[processId];
      // Started already (by this intent, before a crash): journal when it really started.
      let started: { pid: number; startedAt?: number | undefined } | undefined =
        known && known.status !== "created" && known.pid !== undefined ? { pid: known.pid, startedAt: known.startedAt } : undefined;
      if (!started) {
        if (!known && processId !== id) await client.createProcess(processId, state.processes[processId]!.spec);
        started = await client.startProcess(processId);
      }
      // The process owner reports the time; only a service from before it did leaves the daemon's clock.
      return this.outcome(id, intent, { type: "ProcessStarted", data: { processId, pid: started.pid, startedAt: started.startedAt ?? Date.now() } });
    } catch (err) {
      const failed = this.outcome(id, intent, { type: "ProcessStartFailed", data: { processId, error: errorInfo(err) } });
      if (processId === id) await this.autoRemove(id);
      return failed;
    }
  }

  private async signal(id: string, event: Intent<"SignalSent">): Promise<void> {
    const { processId, signal } = event.data;
    if (this.store.container(id)?.processes[processId]?.status !== "running") return;
    try {
      const client = await this.runtimes.client(id);
      // The service replies to SIGKILL once the exit is recorded; the exit watcher journals it.
      await client.kill(processId, signal);
    } catch {
      // Already gone: its exit is (or will be) journaled by the exit watcher or recovery.
    }
  }

  private async stop(id: string, intent: Intent<"StopRequested">): Promise<StoredEvent | undefined> {
    if (!this.pending(id, intent)) return undefined;
    const { signal, timeoutInSeconds } = intent.data;
    const budget = stopBudget(timeoutInSeconds);
    try {
      const client = await this.runtimes.client(id);
      // Frozen processes cannot act on a signal: thaw a paused container first.
      // A resume that fails leaves it frozen: the SIGKILL below still ends a frozen process.
      if ((await client.state()).status === "paused") await client.resume().catch(() => {});
      // The daemon runs the signal → timeout → SIGKILL sequence itself, so every signal is
      // journaled (as caused by the stop request) before it is sent. Its budget runs from here.
      const left = stopwatch();
      if (this.store.container(id)?.processes[id]?.status === "running") {
        this.signalled(id, intent, signal);
        // A signal that cannot be sent (init already gone) is no failure: the wait below decides.
        await client.kill(id, signal, left(budget.killMs)).catch(() => {});
        // A wait that fails means the service is gone: nothing is left to escalate, and its exit is the watcher's.
        const exited = await within(client.wait(id), budget.graceMs).catch(() => true);
        if (!exited) {
          this.signalled(id, intent, "SIGKILL");
          await client.kill(id, "SIGKILL", left(budget.killMs)).catch(() => {}); // already gone: the exit watcher journals it
        }
      }
      await client.stop({ signal: "SIGKILL", timeoutInSeconds: 0 }, left(budget.teardownMs));
      for await (const record of client.exits(false)) await this.runtimes.journalExit(id, record);
    } catch {
      // The service is gone: its exit records on disk are all that is left to tell.
      for (const record of readExitRecords(this.options.root, id)) await this.runtimes.journalExit(id, record);
    }
    if (!this.pending(id, intent)) return undefined;
    const state = this.store.container(id)!;
    const outcome =
      state.processes[id]?.status === "running"
        ? this.store.record(id, [{ type: "ContainerLost", data: { reason: "the runtime service vanished during stop without recording the exit of init", exitCode: 255 } }], { causationId: intent.eventId })[0]!
        : this.outcome(id, intent, { type: "ContainerStopped", data: {} });
    await this.autoRemove(id);
    return outcome;
  }

  private signalled(id: string, intent: StoredEvent, signal: string): void {
    if (this.store.container(id)?.processes[id]?.status !== "running") return;
    this.outcome(id, intent, { type: "SignalSent", data: { processId: id, signal } });
  }

  /** Pause or unpause; the outcome states what the container is now, and why if unchanged. */
  private async freeze(id: string, intent: Intent<"PauseRequested" | "UnpauseRequested">): Promise<StoredEvent | undefined> {
    if (!this.pending(id, intent)) return undefined;
    const pausing = intent.type === "PauseRequested";
    let paused = !pausing;
    let error: ErrorInfo | undefined;
    try {
      const client = await this.runtimes.client(id);
      try {
        await (pausing ? client.pause() : client.resume());
        paused = pausing;
      } catch (err) {
        error = errorInfo(err);
        // Performed again after a crash, the request may have taken effect before the daemon
        // died (the service then refuses it as already done): journal what the service is.
        const status = (await client.state()).status;
        if (status === "paused" || status === "running") paused = status === "paused";
      }
    } catch (err) {
      error ??= errorInfo(err);
    }
    const data = paused === pausing || !error ? {} : { error };
    return this.outcome(id, intent, { type: paused ? "ContainerPaused" : "ContainerUnpaused", data });
  }

  private async shutdown(id: string, intent: Intent<"ShutdownRequested">): Promise<StoredEvent | undefined> {
    if (!this.pending(id, intent)) return undefined;
    await this.releaseRuntime(id);
    return this.outcome(id, intent, { type: "ContainerShutdown", data: {} });
  }

  /**
   * Stops the runtime service if it still runs (idempotent: a dead one needs nothing), and waits
   * (bounded) until its process is gone: it exits just after its reply, and until then a host
   * scan would see a live service of a container that holds no sandbox.
   */
  private async releaseRuntime(id: string): Promise<void> {
    if (probeRuntime(this.options.root, id).alive) {
      try {
        const client = await this.runtimes.client(id);
        await client.shutdown();
      } catch {
        // It exited on its own between the probe and the call.
      }
      for (const until = Date.now() + SERVICE_EXIT_MS; probeRuntime(this.options.root, id).alive && Date.now() < until;) await sleep(10);
    }
    this.runtimes.drop(id);
  }

  private async cleanUp(id: string): Promise<void> {
    this.cancelRestart(id);
    await this.releaseRuntime(id);
    // A service killed before its teardown leaves the rootfs overlay mounted: unmount it, or the
    // removal would recurse into the container's files and then fail on the mount point.
    releaseContainerRootfs(containerPaths(this.options.root, id));
    rmSync(containerDir(this.options.root, id), { recursive: true, force: true });
  }

  /** Runs on the container's queue after an exit is journaled (the daemon wires it to Runtimes). */
  async afterExit(id: string, exit: Exit): Promise<void> {
    if (exit.processId === id) await this.completeStop(id);
  }

  /**
   * Finishes a container whose init exit is journaled but whose stop is not: live, right after
   * the exit; at recovery, when the daemon died between the two. Idempotent.
   */
  async completeStop(id: string): Promise<void> {
    const state = this.store.container(id);
    if (!state || state.status !== "stopping" || state.processes[id]?.status !== "exited") return;
    // A user stop finishes with its own ContainerStopped; here init ended by itself.
    if (state.pending.some((p) => p.type === "StopRequested")) return;
    await this.awaitTeardown(id);
    this.store.record(id, [{ type: "ContainerStopped", data: {} }]);
    await this.afterStop(id);
  }

  /** What follows a stop: the restart policy, or the auto-remove (the two never combine). */
  async afterStop(id: string): Promise<void> {
    this.considerRestart(id);
    await this.autoRemove(id);
  }

  /**
   * `--rm`: a container whose config asks for it is deleted by the daemon once it has stopped
   * (or could not boot or start). The delete goes through the decider as the daemon, caused by
   * the ContainerCreated that carried the request and correlated with its command.
   */
  async autoRemove(id: string): Promise<void> {
    const state = this.store.container(id);
    if (!state || state.config.autoRemove !== true || state.pending.length > 0 || this.clientDeletes.has(id) || this.removalHolds.has(id)) return;
    // Removable where a shutdown is allowed (created, booted, stopped): a booted one is shut down first.
    if (!allows("shutdown", state.status)) return;
    if (state.status === "booted" && state.processes[id]?.status !== "created") return;
    const { createdBy } = state; // absent only in a state from before it was kept (snapshot-check.ts fills it)
    const meta = { actor: this.store.daemonActor, ...(createdBy ? { causationId: createdBy.eventId, correlationId: createdBy.correlationId ?? createdBy.eventId } : {}) };
    const steps = state.status === "booted" ? (["shutdown", "delete"] as const) : (["delete"] as const);
    for (const type of steps) {
      const { events } = this.store.command({ type, id }, meta);
      for (const event of events) await this.effect(event);
    }
  }

  /**
   * The service tears the sandbox down by itself once init is gone. Its verbs run one at a time,
   * so a stop queued behind that teardown returns exactly when it has finished.
   */
  private async awaitTeardown(id: string): Promise<void> {
    try {
      const client = await this.runtimes.client(id);
      await client.stop({ signal: "SIGKILL", timeoutInSeconds: 0 });
    } catch {
      // The service has exited: nothing is left to tear down.
    }
  }

  /** Runs a client's delete of `id`; an auto-remove its stop would cause is left to it. */
  async whileDeleting<T>(id: string, fn: () => Promise<T>): Promise<T> {
    this.clientDeletes.set(id, (this.clientDeletes.get(id) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const n = this.clientDeletes.get(id)! - 1;
      if (n > 0) this.clientDeletes.set(id, n);
      else this.clientDeletes.delete(id);
    }
  }

  /** Applies the restart policy to a container that has just stopped. */
  considerRestart(id: string): void {
    const state = this.store.container(id);
    const decision = state && nextRestart(state);
    if (!decision || this.stopped) return;
    this.store.record(id, [{ type: "RestartScheduled", data: decision }]);
    this.cancelRestart(id);
    const timer = setTimeout(() => {
      this.restartTimers.delete(id);
      // A timer has no caller to tell: an effect's failure is journaled as its outcome (lastError),
      // and a step the decider refuses means the container moved on (a client started or deleted it).
      void this.queue.run(id, () => this.restart(id, decision.attempt)).catch(() => {});
    }, decision.delayMs);
    this.restartTimers.set(id, timer);
  }

  /**
   * Keeps an --rm container from being removed until the returned release is called, which then
   * removes it if it has stopped meanwhile (on its queue): an attached `run` still reading its
   * output from the log files needs them there.
   */
  holdRemoval(id: string): () => Promise<void> {
    this.removalHolds.set(id, (this.removalHolds.get(id) ?? 0) + 1);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      const n = this.removalHolds.get(id)! - 1;
      if (n > 0) return void this.removalHolds.set(id, n);
      this.removalHolds.delete(id);
      await this.queue.run(id, () => this.autoRemove(id));
    };
  }

  /** The stopped container started again (start-operation.ts), as the daemon, as if a client had asked. */
  async restart(id: string, attempt?: number): Promise<void> {
    const state = this.store.container(id);
    if (!state || state.status !== "stopped" || (attempt !== undefined && (state.stopRequested || state.restartCount !== attempt))) return;
    const meta = { correlationId: `restart-${id}-${state.version}`, actor: this.store.daemonActor };
    await startContainer(id, state.status, async (command) => {
      const { events } = this.store.command(command, meta);
      for (const event of events) await this.effect(event);
      const now = this.store.container(id);
      return now !== undefined && !now.lastError;
    });
  }

  private cancelRestart(id: string): void {
    const timer = this.restartTimers.get(id);
    if (timer) clearTimeout(timer);
    this.restartTimers.delete(id);
  }

  close(): void {
    this.stopped = true;
    for (const timer of this.restartTimers.values()) clearTimeout(timer);
    this.restartTimers.clear();
  }
}
