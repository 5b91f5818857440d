// The client of a runtime service from before conmon (src/daemon/legacy-service.ts): just what
// stopping one cleanly at upgrade needs.
import { BerthError } from "../model/errors.js";
import { parseExit, type Exit } from "../model/exit.js";
import { IpcClient } from "../ipc/client.js";

export class LegacyServiceClient {
  private constructor(private readonly ipc: IpcClient) {}

  static async connect(socket: string, opts: { timeoutMs?: number } = {}): Promise<LegacyServiceClient> {
    return new LegacyServiceClient(await IpcClient.connect(socket, opts));
  }

  /** The service signals init, waits the grace, then SIGKILLs and tears down. */
  stop(opts: { signal: string; timeoutInSeconds: number }): Promise<unknown> {
    return this.ipc.call("stop", opts, { timeoutMs: (opts.timeoutInSeconds + 60) * 1000 });
  }

  shutdown(): Promise<unknown> {
    return this.ipc.call("shutdown", {}, { timeoutMs: 120_000 });
  }

  /** Every exit the service recorded. */
  async *exits(): AsyncIterable<Exit> {
    for await (const item of this.ipc.stream<unknown>("exits", { follow: false })) yield exitOf(item);
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
