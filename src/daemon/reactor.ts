// The reactor: turns intents into effects through the runtime services, and journals each
// outcome with the intent as its causation. Every effect first checks that its intent is still
// pending, and probes reality before acting ("is the service already up? is the process
// already started?"), so an intent performed twice (after a crash) never acts twice.
import { rmSync } from "node:fs";
import type { DriverName } from "../vm/driver.js";
import { createDriver } from "../vm/drivers.js";
import { containerDir, containerPaths } from "../vm/paths.js";
import type { ContainerState } from "../projections/container.js";
import { releaseContainerRootfs } from "../vm/rootfs.js";
import { errorInfo, type ErrorInfo } from "../model/errors.js";
import type { Exit } from "../model/exit.js";
import { containerIdOf, type ContainerEvent, type StoredEvent } from "../events/catalogue.js";
import type { KeyedQueue } from "./keyed-queue.js";
import type { NetworkEffects } from "./network-effects.js";
import { nextRestart } from "./restart.js";
import type { Runtimes } from "./runtimes.js";
import { startContainer } from "./start-operation.js";
import type { Store } from "./store.js";
import { allows, initMayBeAliveIn } from "../model/lifecycle.js";
import { stopBudget } from "../model/budget.js";
import { stopwatch } from "./stopwatch.js";

/** An intent as the cause of what its effect journals. */
const causedBy = (intent: StoredEvent) => ({ causationId: intent.eventId, ...(intent.correlationId ? { correlationId: intent.correlationId } : {}) });

type Intent<T extends ContainerEvent["type"]> = StoredEvent<Extract<ContainerEvent, { type: T }>>;

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
    private readonly options: { root: string; driver: DriverName },
    private readonly networks: NetworkEffects,
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
    return this.store.record(id, [event], causedBy(intent))[0]!;
  }

  private async bootstrap(id: string, intent: Intent<"BootstrapRequested">): Promise<StoredEvent | undefined> {
    if (!this.pending(id, intent)) return undefined;
    let booted: StoredEvent | undefined;
    try {
      // Performed again after a crash mid-boot, the boot starts over (Runtimes.boot and the
      // network's prepare release what the first left).
      const network = await this.networks.prepare(id, causedBy(intent));
      const service = await this.runtimes.boot(id, intent.data.dynamicEnv, network);
      booted = this.outcome(id, intent, { type: "ContainerBooted", data: { runtime: service.endpoint() } });
      return booted;
    } catch (err) {
      const failed = this.outcome(id, intent, { type: "BootstrapFailed", data: { error: errorInfo(err) } });
      await this.networks.release(id, "stopped", causedBy(intent));
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
      const client = this.runtimes.client(id);
      const known = client.state().processes[processId];
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
      const client = this.runtimes.client(id);
      // The service replies to SIGKILL once the exit is seen; Runtimes journals it.
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
      const client = this.runtimes.client(id);
      // Frozen processes cannot act on a signal: thaw a paused container first.
      // A resume that fails leaves it frozen: the SIGKILL below still ends a frozen process.
      if (client.state().status === "paused") await client.resume().catch(() => {});
      // The daemon runs the signal → timeout → SIGKILL sequence itself, so every signal is
      // journaled (as caused by the stop request) before it is sent. Its budget runs from here.
      const left = stopwatch();
      if (this.store.container(id)?.processes[id]?.status === "running") {
        this.signalled(id, intent, signal);
        // A signal that cannot be sent (init already gone) is no failure: the wait below decides.
        await within(client.kill(id, signal), left(budget.killMs)).catch(() => {});
        // A wait that fails means init's monitor is gone: nothing is left to escalate, and the loss is reported.
        const exited = await within(client.wait(id), budget.graceMs).catch(() => true);
        if (!exited) {
          this.signalled(id, intent, "SIGKILL");
          await within(client.kill(id, "SIGKILL"), left(budget.killMs)).catch(() => {}); // already gone: its exit is journaled by Runtimes
        }
      }
      await within(client.stop({ signal: "SIGKILL", timeoutInSeconds: 0 }), left(budget.teardownMs));
      for (const record of client.exits()) await this.runtimes.journalExit(id, record);
    } catch {
      // No service (the container's monitor was lost): conmon's exit files are all that is left to tell.
      const state = this.store.container(id);
      if (state) for (const record of this.runtimes.recordedExits(state)) await this.runtimes.journalExit(id, record);
    }
    if (!this.pending(id, intent)) return undefined;
    const state = this.store.container(id)!;
    const outcome =
      state.processes[id]?.status === "running"
        ? this.store.record(id, [{ type: "ContainerLost", data: { reason: "the monitor of init vanished during stop without recording its exit", exitCode: 255 } }], { causationId: intent.eventId })[0]!
        : this.outcome(id, intent, { type: "ContainerStopped", data: {} });
    await this.networks.release(id, "stopped", causedBy(intent));
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
      const client = this.runtimes.client(id);
      try {
        await (pausing ? client.pause() : client.resume());
        paused = pausing;
      } catch (err) {
        error = errorInfo(err);
        // Performed again after a crash, the request may have taken effect before the daemon
        // died (the service then refuses it as already done): journal what the service is.
        const status = client.state().status;
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
    const outcome = this.outcome(id, intent, { type: "ContainerShutdown", data: {} });
    await this.networks.release(id, "stopped", causedBy(intent));
    return outcome;
  }

  /** Releases the sandbox, whatever its state (idempotent: a container with no service needs nothing). */
  private async releaseRuntime(id: string): Promise<void> {
    if (!this.runtimes.has(id)) return;
    await this.runtimes.client(id).shutdown();
    this.runtimes.drop(id);
  }

  private async cleanUp(id: string): Promise<void> {
    this.cancelRestart(id);
    await this.releaseRuntime(id);
    await this.networks.release(id, "stopped");
    // A sandbox whose monitor was lost before its teardown leaves the rootfs overlay mounted: unmount it, or the
    // removal would recurse into the container's files and then fail on the mount point.
    releaseContainerRootfs(containerPaths(this.options.root, id));
    rmSync(containerDir(this.options.root, id), { recursive: true, force: true });
  }

  /** Runs on the container's queue after an exit is journaled (the daemon wires it to Runtimes). */
  async afterExit(id: string, exit: Exit): Promise<void> {
    if (exit.processId === id) await this.completeStop(id);
  }

  /**
   * Runs on the container's queue when init's monitor died without recording its exit: the
   * service has torn the sandbox down already, so nothing of it runs when the loss is journaled.
   */
  async afterLoss(id: string, reason: string): Promise<void> {
    const state = this.store.container(id);
    this.runtimes.drop(id);
    if (!state || !initMayBeAliveIn(state.status)) return;
    this.store.record(id, [{ type: "ContainerLost", data: { reason, exitCode: 255 } }]);
    await this.networks.release(id, "stopped");
    await this.afterStop(id);
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
    await this.networks.release(id, "stopped");
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
    if (this.runtimes.has(id)) await this.runtimes.client(id).stop({ signal: "SIGKILL", timeoutInSeconds: 0 });
    else await this.tearDownUnfollowed(this.store.container(id)!);
  }

  /**
   * Tears down a sandbox no service follows (an earlier daemon's, whose init ended or whose
   * monitor died): what still runs of it is killed and its rootfs released. Returns init's pid
   * when init was still there.
   */
  async tearDownUnfollowed(state: ContainerState): Promise<number | undefined> {
    try {
      const driver = await createDriver((state.runtime?.driver as DriverName | undefined) ?? this.options.driver, { root: this.options.root, id: state.id, config: state.config });
      const probe = await driver.probe();
      // Even with no sandbox left, teardown releases what the sandbox held (its rootfs mount).
      await driver.teardown();
      return probe.status === "running" ? probe.initPid : undefined;
    } catch {
      // The driver cannot probe or tear down (no runc state, no bundle): nothing is known to be alive here; the orphan scan lists whatever remains.
      return undefined;
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
