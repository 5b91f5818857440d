// RuntimeClient: a typed façade over one container's routes, shaped like Apple's. Each
// lifecycle call carries a fresh commandId so the daemon can recognise a retried command and
// answer it without journaling it twice.
import { randomUUID } from "node:crypto";
import type { ContainerConfigInput, ProcessSpec } from "../model/config.js";
import type { ContainerState } from "../projections/container.js";
import { FORCE_DELETE_BUDGET, stopBudget, UNSIZED_STOP } from "../model/budget.js";
import { BerthError } from "../model/errors.js";
import type { ExitStatus } from "../model/exit.js";
import { IpcClient } from "./client.js";

/** What `wait` resolves with: the final item of the wait stream (an exit, its time as ISO text). */
export type { ExitStatus };

export type ProcessSpecInput = Partial<ProcessSpec> & { args: string[] };

export interface LogsOptions {
  /** An exec'd process's output instead of init's. */
  processId?: string;
  follow?: boolean;
  since?: number | string;
  until?: number | string;
  tail?: number;
  stdout?: boolean;
  stderr?: boolean;
}

/** One entry of a container's output, as `logs` and `run` stream it (src/vm/logs.ts reads conmon's files). */
export interface OutputEntry {
  /** ms since the epoch, from conmon's timestamp */
  t: number;
  /** the timestamp as conmon wrote it, to the nanosecond (RFC 3339) */
  ts: string;
  s: "stdout" | "stderr";
  /** the process that wrote it; init's is the container id */
  p: string;
  line: string;
  /** the line continues in the stream's next entry: print it without a newline */
  partial?: true;
}

/** What a `run` stream yields: init has started; one entry of its output; then its exit. */
export type RunItem =
  | { type: "booted"; state: ContainerState }
  | { type: "started"; state: ContainerState }
  | { type: "output"; entry: OutputEntry }
  | { type: "exit"; exit: ExitStatus };

export interface RunOptions {
  /** Return once init has started: no output, no exit. */
  detach?: boolean;
  dynamicEnv?: Record<string, string>;
  /**
   * The client attaches to init's stdio itself (`run -i`, `-t`): the stream yields `booted`
   * once the sandbox is ready, waits for the client to start init (route `start`), and sends
   * no output, only the exit.
   */
  attach?: boolean;
}

/** Where a client reaches an attached process's stdio (the `attach` route's one item). */
export interface AttachPoint {
  /** The id of the journaled ProcessAttached. */
  session: string;
  /** The directory of conmon's attach socket (`attach`), and its control fifo. */
  dir: string;
  control: string;
  tty: boolean;
  stdin: boolean;
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

  /**
   * Starts the container from created (bootstrap, start), booted (start) or stopped (shutdown,
   * bootstrap, start), as docker's start does, in one request (route `start`).
   */
  start(): Promise<ContainerState> {
    return this.lifecycle("start");
  }

  /**
   * create + bootstrap + start in one request (route `run`). The stream yields `started` once
   * init runs; detached, that is all. Attached, init's output follows, entry by entry, and then
   * its exit, which for an `autoRemove` container comes once the daemon has deleted it.
   * Cancelling (or leaving the loop) detaches: the container keeps running.
   */
  run(config: ContainerConfigInput, opts: RunOptions = {}): AsyncIterable<RunItem> & { cancel(): void } {
    const body = { id: this.id, config, ...(opts.detach ? { detach: true } : {}), ...(opts.attach ? { attach: true } : {}), ...(opts.dynamicEnv ? { dynamicEnv: opts.dynamicEnv } : {}), commandId: randomUUID() };
    this.lastCommandId = body.commandId;
    const stream = this.ipc.stream<Record<string, unknown>>("run", body);
    const id = this.id;
    async function* items(): AsyncGenerator<RunItem> {
      for await (const item of stream) {
        if ("line" in item) yield { type: "output", entry: item as unknown as OutputEntry };
        else if ("started" in item) yield { type: "started", state: item.started as ContainerState };
        else if ("booted" in item) yield { type: "booted", state: item.booted as ContainerState };
        else if (isExitStatus(item.exit)) yield { type: "exit", exit: item.exit };
        else throw new BerthError("internalError", `run of ${id} sent an item that is neither output, started nor an exit`);
      }
    }
    return Object.assign(items(), { cancel: () => stream.cancel() });
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

  /** Calls the container `name` from now on (its id stays); the name must be free. */
  rename(name: string): Promise<unknown> {
    return this.lifecycle("rename", { name });
  }

  /** Releases the sandbox; the container can be bootstrapped again afterwards. */
  shutdown(): Promise<unknown> {
    return this.lifecycle("shutdown");
  }

  delete(opts: { force?: boolean } = {}): Promise<unknown> {
    // A forced delete may first wait for what is in flight, then stop with SIGKILL.
    return this.lifecycle("delete", opts.force !== undefined ? { force: opts.force } : {}, opts.force ? FORCE_DELETE_BUDGET.clientMs : undefined);
  }

  /**
   * Attaches to a process's stdio (route `attach`): the daemon journals it and answers with
   * where conmon serves it; the stream stays open while attached. Cancelling it is the detach.
   * `stdin: false` is `--no-stdin`.
   */
  async attach(processId: string, opts: { stdin?: boolean } = {}): Promise<{ point: AttachPoint; stream: AsyncIterator<unknown>; detach(): void }> {
    const stream = this.ipc.stream<AttachPoint>("attach", { id: this.id, processId, ...(opts.stdin === false ? { stdin: false } : {}) });
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) throw new BerthError("internalError", `attach to ${processId} ended before it began`);
    return { point: first.value, stream: it, detach: () => stream.cancel() };
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
