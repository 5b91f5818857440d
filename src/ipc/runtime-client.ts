// RuntimeClient: a typed façade over one container's routes, shaped like Apple's. Each
// lifecycle call carries a fresh commandId so the daemon can recognise a retried command and
// answer it without journaling it twice.
import { randomUUID } from "node:crypto";
import type { ContainerConfigInput, ProcessSpec } from "../model/config.js";
import type { ContainerState } from "../projections/container.js";
import { FORCE_DELETE_BUDGET, stopBudget, UNSIZED_STOP } from "../model/budget.js";
import { BerthError } from "../model/errors.js";
import { IpcClient } from "./client.js";

/** What `wait` resolves with: the final item of the wait stream. */
export interface ExitStatus {
  exitCode: number;
  exitedAt: string;
  signal?: string;
  oomKilled: boolean;
}

export type ProcessSpecInput = Partial<ProcessSpec> & { args: string[] };

export interface LogsOptions {
  follow?: boolean;
  since?: number | string;
  tail?: number;
  stdout?: boolean;
  stderr?: boolean;
}

export class RuntimeClient {
  private constructor(readonly id: string, readonly ipc: IpcClient) {}

  /** Connects to the daemon (or a runtime service) socket. Errors are BerthErrors (notFound, timeout, ...). */
  static async create(opts: { id: string; socket: string; timeoutMs?: number }): Promise<RuntimeClient> {
    if (typeof opts.id !== "string" || opts.id === "") throw new BerthError("invalidArgument", "RuntimeClient needs a container id");
    const ipc = await IpcClient.connect(opts.socket, opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {});
    return new RuntimeClient(opts.id, ipc);
  }

  /** The commandId of the last lifecycle call sent, so a caller can find it in the journal. */
  lastCommandId: string | undefined;

  private lifecycle<T>(route: string, fields: Record<string, unknown> = {}, timeoutMs?: number): Promise<T> {
    const body = { id: this.id, ...fields, commandId: randomUUID() };
    this.lastCommandId = body.commandId;
    return this.ipc.call<T>(route, body, timeoutMs !== undefined ? { timeoutMs } : {});
  }

  /** Registers the container with its configuration (route `create`). */
  createContainer(config: ContainerConfigInput): Promise<unknown> {
    return this.lifecycle("create", { config });
  }

  /** `run`: this bootstrap is part of a run, so a daemon crash before the start releases the sandbox. */
  bootstrap(opts: { dynamicEnv?: Record<string, string>; run?: boolean } = {}): Promise<unknown> {
    return this.lifecycle("bootstrap", { ...(opts.dynamicEnv ? { dynamicEnv: opts.dynamicEnv } : {}), ...(opts.run ? { run: true } : {}) });
  }

  /** Starts the init process (processId === container id) or a registered exec process. */
  startProcess(processId: string): Promise<unknown> {
    return this.lifecycle("startProcess", { processId });
  }

  createProcess(processId: string, spec: ProcessSpecInput): Promise<unknown> {
    return this.lifecycle("createProcess", { processId, spec });
  }

  /** The container snapshot (ContainerState from src/projections/container.ts). */
  state<T = ContainerState>(): Promise<T> {
    return this.ipc.call<T>("state", { id: this.id });
  }

  statistics<T = unknown>(): Promise<T> {
    return this.ipc.call<T>("statistics", { id: this.id });
  }

  stop(opts: { signal?: string; timeoutInSeconds?: number } = {}): Promise<unknown> {
    const fields: Record<string, unknown> = {};
    if (opts.signal !== undefined) fields.signal = opts.signal;
    if (opts.timeoutInSeconds !== undefined) fields.timeoutInSeconds = opts.timeoutInSeconds;
    // The reply comes after the grace, a possible SIGKILL and the teardown; the daemon answers
    // within its own deadline of that budget, so wait a little longer. Without a grace the daemon
    // applies the container's configured one, which this client does not know.
    const budget = opts.timeoutInSeconds !== undefined ? stopBudget(opts.timeoutInSeconds) : UNSIZED_STOP;
    return this.lifecycle("stop", fields, budget.clientMs);
  }

  /** Signals one process; for SIGKILL the daemon replies once the exit has been observed. */
  kill(processId: string, signal: string | number): Promise<unknown> {
    return this.lifecycle("kill", { processId, signal });
  }

  /**
   * Resolves with the process's exit (a late wait gets the stored exit). The route streams
   * progress items and ends with the exit status, so a long wait is not cut by a unary deadline.
   */
  async wait(processId: string, opts: { timeoutMs?: number } = {}): Promise<ExitStatus> {
    let last: unknown;
    for await (const item of this.ipc.stream("wait", { id: this.id, processId }, opts)) last = item;
    if (!isExitStatus(last)) {
      throw new BerthError("internalError", `wait for ${processId} ended without an exit status`);
    }
    return last;
  }

  /** Freezes every process of the container (cgroup freezer); `unpause` thaws them. */
  pause(): Promise<unknown> {
    return this.lifecycle("pause");
  }

  unpause(): Promise<unknown> {
    return this.lifecycle("unpause");
  }

  /** Releases the sandbox; the container can be bootstrapped again afterwards. */
  shutdown(): Promise<unknown> {
    return this.lifecycle("shutdown");
  }

  delete(opts: { force?: boolean } = {}): Promise<unknown> {
    // A forced delete may first wait for what is in flight, then stop with SIGKILL.
    return this.lifecycle("delete", opts.force !== undefined ? { force: opts.force } : {}, opts.force ? FORCE_DELETE_BUDGET.clientMs : undefined);
  }

  logs<T = unknown>(opts: LogsOptions = {}): AsyncIterable<T> & { cancel(): void } {
    return this.ipc.stream<T>("logs", { id: this.id, ...opts });
  }

  close(): void {
    this.ipc.close();
  }
}

function isExitStatus(v: unknown): v is ExitStatus {
  if (!v || typeof v !== "object") return false;
  const e = v as Record<string, unknown>;
  return typeof e.exitCode === "number" && typeof e.exitedAt === "string" && typeof e.oomKilled === "boolean";
}
