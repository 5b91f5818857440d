// The CLI's own terminal while a process's terminal is attached (`run -t`, `exec -t`, `attach`):
// raw mode, so every key goes to the container, and its restoration on every way out the CLI
// has (a normal exit, an uncaught exception, SIGTERM, SIGHUP). SIGKILL leaves it raw: `reset`
// mends it (docs/cli.md). And the detach keys, docker's: ctrl-p ctrl-q unless --detach-keys or
// the user's docker config (`detachKeys`) says otherwise.
import fs from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { BerthError } from "../model/errors.js";

export const DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q";

/** docker's key names: one character, or ctrl- and a letter or one of @[\]^_ ("ctrl-p,ctrl-q", "ctrl-x,x"). */
export function parseDetachKeys(spec: string): number[] {
  const keys: number[] = [];
  for (const key of spec.split(",")) {
    const k = key.trim();
    const ctrl = /^ctrl-([a-z@[\\\]^_])$/i.exec(k);
    if (ctrl) keys.push(ctrl[1]!.toUpperCase().charCodeAt(0) & 0x1f);
    else if (k.length === 1) keys.push(k.charCodeAt(0));
    else throw new BerthError("invalidArgument", `invalid detach keys ${JSON.stringify(spec)}: each key is one character or ctrl-<letter>, separated by commas`);
  }
  if (keys.length === 0) throw new BerthError("invalidArgument", "detach keys must name at least one key");
  return keys;
}

/** The detach keys: the flag's, else the docker config's `detachKeys`, else ctrl-p,ctrl-q. */
export function detachKeys(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): number[] {
  if (flag !== undefined) return parseDetachKeys(flag);
  const configFile = join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), ".docker"), "config.json");
  let configured: unknown;
  try {
    configured = (JSON.parse(fs.readFileSync(configFile, "utf8")) as { detachKeys?: unknown }).detachKeys;
  } catch {
    configured = undefined; // no docker config (or not JSON): the default keys
  }
  return parseDetachKeys(typeof configured === "string" && configured !== "" ? configured : DEFAULT_DETACH_KEYS);
}

/**
 * Watches typed bytes for the detach sequence, as docker's escape proxy does: bytes that could
 * start it are held back until the sequence completes (detach) or breaks (they are passed on).
 */
export class DetachKeyFilter {
  private held: number[] = [];
  constructor(private readonly keys: number[]) {}

  /** What to pass on of `input`, and whether the sequence completed (the rest is dropped). */
  feed(input: Buffer): { pass: Buffer; detach: boolean } {
    const pass: number[] = [];
    for (const byte of input) {
      if (byte === this.keys[this.held.length]) {
        this.held.push(byte);
        if (this.held.length === this.keys.length) return { pass: Buffer.from(pass), detach: true };
        continue;
      }
      pass.push(...this.held);
      this.held = [];
      if (byte === this.keys[0]) this.held.push(byte);
      else pass.push(byte);
    }
    return { pass: Buffer.from(pass), detach: false };
  }
}

/**
 * Puts the CLI's stdin terminal in raw mode until the returned function is called, and makes
 * sure it is restored however the CLI ends. Returns a no-op when stdin is not a terminal.
 */
export function rawTerminal(): () => void {
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => {};
  stdin.setRawMode(true);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    try {
      stdin.setRawMode(false);
    } catch {
      // the terminal went away (SIGHUP): there is nothing left to restore
    }
    process.off("exit", restore);
    process.off("uncaughtException", onCrash);
    for (const s of RESTORE_ON) process.off(s, onSignal);
  };
  const onCrash = (err: Error) => {
    restore();
    process.stderr.write(`berth: internalError: ${err.stack ?? err.message}\n`);
    process.exit(125);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    restore();
    process.kill(process.pid, signal); // the handler is gone: the signal now ends the CLI as it would have
  };
  process.on("exit", restore);
  process.on("uncaughtException", onCrash);
  for (const s of RESTORE_ON) process.on(s, onSignal);
  return restore;
}

const RESTORE_ON: NodeJS.Signals[] = ["SIGTERM", "SIGHUP"];

/** The size of the CLI's terminal, if it has one. */
export function terminalSize(): { rows: number; columns: number } | undefined {
  const out = process.stdout;
  return out.isTTY && out.rows > 0 && out.columns > 0 ? { rows: out.rows, columns: out.columns } : undefined;
}
