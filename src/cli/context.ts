// What every command needs: the root, a connection to the daemon, and the mapping from
// BerthErrors to docker's exit codes. Imports stay light so `berth run` starts fast: the IPC
// client (msgpackr, node:net, node:crypto) loads on the first connection, so `--version`,
// `--help` and usage errors never read it.
import { assertNever, BerthError, toBerthError } from "../model/errors.js";
import type { IpcClient } from "../ipc/client.js";
import type { RuntimeClient } from "../ipc/runtime-client.js";
import { defaultRoot, socketPath } from "../host/root-layout.js";

/** Exit codes, as docker's: the daemon or berth failed / cannot invoke / not found / usage. */
export const EXIT = { failure: 125, cannotInvoke: 126, notFound: 127, usage: 2 } as const;

export interface GlobalOptions {
  root?: string;
  format?: string;
}

/** --root, else the daemon's own default (src/host/root-layout.ts). */
export function resolveRoot(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string {
  return opts.root || defaultRoot(env);
}

// Lifecycle replies can wait for runc and for stop timeouts; the daemon applies its own deadlines.
const CALL_TIMEOUT_MS = 180_000;

/** One daemon connection shared by the command's calls. */
export class Session {
  private ipcPromise: Promise<IpcClient> | undefined;
  private readonly clients = new Map<string, RuntimeClient>();

  constructor(readonly root: string) {}

  get socket(): string {
    return socketPath(this.root);
  }

  ipc(): Promise<IpcClient> {
    this.ipcPromise ??= import("../ipc/client.js")
      .then(({ IpcClient }) => IpcClient.connect(this.socket, { timeoutMs: CALL_TIMEOUT_MS }))
      .catch((err) => {
        throw withDaemonHint(toBerthError(err), this.root);
      });
    return this.ipcPromise;
  }

  /** A RuntimeClient per container id, on its own connection (streams and calls run side by side). */
  async client(id: string): Promise<RuntimeClient> {
    let c = this.clients.get(id);
    if (!c) {
      const { RuntimeClient } = await import("../ipc/runtime-client.js");
      c = await RuntimeClient.create({ id, socket: this.socket, timeoutMs: CALL_TIMEOUT_MS }).catch((err) => {
        throw withDaemonHint(toBerthError(err), this.root);
      });
      this.clients.set(id, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    void this.ipcPromise?.then((c) => c.close(), () => {}); // a connection that never opened has nothing to close
  }
}

function withDaemonHint(err: BerthError, root: string): BerthError {
  if (err.code !== "notFound" || !/socket|server/.test(err.message)) return err;
  return new BerthError(
    "notFound",
    `${err.message}. Is the daemon running? Start it with \`berth daemon --root ${root}\` (or \`npm start\`), or pass the root it serves with --root / BERTH_ROOT`,
  );
}

/**
 * An error's exit code, mapped from its reason as docker does: 127 when the command does not
 * exist in the container, 126 when it exists but cannot be invoked, 125 for anything else.
 */
export function exitCodeForError(err: BerthError): number {
  switch (err.reason) {
    case "executableNotFound": return EXIT.notFound;
    case "notExecutable": return EXIT.cannotInvoke;
    case "clientGone":
    case undefined: return EXIT.failure;
    default: return assertNever(err.reason);
  }
}

/** The line berth prints for a failure: `berth: <code>: <message>`. */
export const errorLine = (err: BerthError) => `berth: ${err.code}: ${err.message}`;
