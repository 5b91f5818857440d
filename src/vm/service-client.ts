// A typed client for one runtime service's routes, over the shared IPC client.
import { stopBudget, UNSIZED_STOP } from "../model/budget.js";
import type { ProcessSpec } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import { parseExit, type Exit } from "../model/exit.js";
import { IpcClient } from "../ipc/client.js";
import type { Statistics } from "./driver.js";
import type { LogEntry } from "./logs.js";
import type { ProcessView, ServiceState, Started } from "./service/service.js";

export type { ServiceState, ProcessView, Started } from "./service/service.js";

export interface LogsRequest {
  follow?: boolean;
  since?: number;
  tail?: number;
  stdout?: boolean;
  stderr?: boolean;
}

export class ServiceClient {
  private constructor(private readonly ipc: IpcClient) {}

  static async connect(socket: string, opts: { timeoutMs?: number } = {}): Promise<ServiceClient> {
    return new ServiceClient(await IpcClient.connect(socket, opts));
  }

  state(): Promise<ServiceState> {
    return this.ipc.call("state");
  }

  createProcess(processId: string, spec: Partial<ProcessSpec> & { args: string[] }): Promise<ProcessView> {
    return this.ipc.call("createProcess", { processId, spec });
  }

  /** processId === the container id starts init. A service older than startedAt leaves it out. */
  startProcess(processId: string): Promise<Pick<Started, "pid"> & Partial<Started>> {
    return this.ipc.call("startProcess", { processId }, { timeoutMs: 5 * 60_000 });
  }

  /** For SIGKILL, resolves once the exit has been observed and recorded. */
  kill(processId: string, signal: string | number = "SIGKILL", timeoutMs = stopBudget(0).killMs): Promise<ProcessView> {
    return this.ipc.call("kill", { processId, signal }, { timeoutMs });
  }

  /**
   * The call may take the whole grace plus the SIGKILL and teardown that follow it. Without a
   * grace the service applies the container's configured one, which this client does not know.
   */
  stop(opts: { signal?: string; timeoutInSeconds?: number } = {}, timeoutMs?: number): Promise<ServiceState> {
    const budget = opts.timeoutInSeconds !== undefined ? stopBudget(opts.timeoutInSeconds) : UNSIZED_STOP;
    return this.ipc.call("stop", opts, { timeoutMs: timeoutMs ?? budget.teardownMs });
  }

  pause(): Promise<ServiceState> {
    return this.ipc.call("pause");
  }

  resume(): Promise<ServiceState> {
    return this.ipc.call("resume");
  }

  statistics(): Promise<Statistics> {
    return this.ipc.call("statistics");
  }

  ack(processId: string, pid: number): Promise<{ acked: boolean }> {
    return this.ipc.call("ack", { processId, pid });
  }

  shutdown(): Promise<ServiceState> {
    return this.ipc.call("shutdown", {}, { timeoutMs: 120_000 });
  }

  /** The exit of a process; a late wait gets the stored exit. */
  async wait(processId: string): Promise<Exit> {
    for await (const item of this.ipc.stream<unknown>("wait", { processId })) return exitOf(item);
    throw new Error(`wait ${processId}: the stream ended without an exit`);
  }

  /** Every exit the service knows, then (with follow) live ones until cancelled. */
  exits(follow = false): AsyncIterable<Exit> & { cancel(): void } {
    const stream = this.ipc.stream<unknown>("exits", { follow });
    return {
      cancel: () => stream.cancel(),
      async *[Symbol.asyncIterator]() {
        for await (const item of stream) yield exitOf(item);
      },
    };
  }

  logs(req: LogsRequest = {}): AsyncIterable<LogEntry> & { cancel(): void } {
    return this.ipc.stream<LogEntry>("logs", req);
  }

  /** The logs stream for a relay: each entry goes to `sink` as its msgpack bytes (IpcClient.stream). */
  relayLogs(req: LogsRequest, sink: (entry: Buffer) => Promise<void> | undefined): AsyncIterable<never> & { cancel(): void } {
    return this.ipc.stream<never>("logs", req, { sink });
  }

  close(): void {
    this.ipc.close();
  }
}

/** A service of any version sends an exit: read it as one (src/model/exit.ts, parseExit). */
function exitOf(item: unknown): Exit {
  const exit = parseExit(item);
  if (!exit) throw new BerthError("internalError", `the runtime service sent something that is not an exit: ${JSON.stringify(item)}`);
  return exit;
}
