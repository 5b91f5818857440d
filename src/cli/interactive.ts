// The CLI side of an attached process (`run -i`/`-t`, `exec -i`/`-t`, `attach`): the daemon
// journals the attach and says where conmon serves the process's stdio; the CLI then talks to
// conmon's attach socket itself (src/vm/attach-socket.ts), as podman's CLI does, so keystrokes
// and output never pass through the daemon. The attach call stays open while attached: the
// daemon journals the detach when it ends, or `clientGone` when this CLI vanishes.
import type { AttachPoint, RuntimeClient } from "../ipc/runtime-client.js";
import { BerthError } from "../model/errors.js";
import { connectAttach, resizeTerminal, type AttachConnection } from "../vm/attach-socket.js";
import { errorLine } from "./context.js";
import { write } from "./output.js";
import { DetachKeyFilter, rawTerminal, terminalSize } from "./terminal.js";

export interface StdioOptions {
  /** Forward the CLI's stdin (false: --no-stdin). */
  stdin: boolean;
  detachKeys: number[];
  /** Without a terminal: forward SIGINT and SIGTERM to the process (docker's --sig-proxy, on by default). */
  sigProxy?: boolean;
}

/** How an attached session ended. */
export type SessionEnd = "ended" | "detached";

/** How long a session waits, after the process's output ended, for the daemon to journal its end. */
const DETACH_RECORD_WAIT_MS = 3000;

const sinkFor = (stream: "stdout" | "stderr") => (stream === "stdout" ? process.stdout : process.stderr);

/**
 * Attaches to `processId`, calls `start` once connected (init's or an exec's start: none of its
 * output comes before the attach), and relays until the process's output ends or the user
 * detaches. A `-t` process puts the CLI's terminal in raw mode for the session.
 */
export async function attachStdio(client: RuntimeClient, processId: string, opts: StdioOptions, start?: () => Promise<unknown>): Promise<SessionEnd> {
  const { point, stream, detach } = await client.attach(processId, { stdin: opts.stdin });
  let conn: AttachConnection;
  try {
    conn = connectAttach(point.dir, (s, data) => write(sinkFor(s), data));
  } catch (err) {
    detach();
    throw err;
  }
  const restoreTerminal = point.tty && point.stdin ? rawTerminal() : () => {};
  const stopResizing = point.tty ? followTerminalSize(point) : () => {};
  let userDetached!: () => void;
  const detached = new Promise<SessionEnd>((r) => (userDetached = () => r("detached")));
  const stopInput = point.stdin ? forwardStdin(conn, point.tty ? new DetachKeyFilter(opts.detachKeys) : undefined, userDetached) : () => {};
  // On a terminal Ctrl-C is a byte for the process's own terminal to turn into SIGINT.
  const stopProxy = !point.tty && opts.sigProxy !== false ? proxySignals(client, processId) : () => {};
  // The attach call's end: the daemon journaled the detach, or it died (then the session ends too).
  const callEnded = stream.next().then(
    () => "ended" as const,
    () => "daemonGone" as const,
  );
  try {
    if (start) await start();
    // Only the daemon's death ends the session from the call: when the process ends, the daemon
    // may say so before conmon has sent its last output, so the socket's EOF is awaited then.
    const daemonGone = callEnded.then((how) => (how === "daemonGone" ? how : new Promise<never>(() => {})));
    const end = await Promise.race([conn.ended.then(() => "ended" as const), detached, daemonGone]);
    if (end === "daemonGone") throw new BerthError("interrupted", `the daemon went away while attached to ${processId}; it keeps running under conmon`);
    const wait = new Promise((r) => setTimeout(r, DETACH_RECORD_WAIT_MS).unref());
    if (end === "ended") await Promise.race([callEnded, wait]);
    return end;
  } finally {
    stopInput();
    stopProxy();
    stopResizing();
    restoreTerminal();
    conn.close();
    detach();
  }
}

/** Sizes the process's terminal like the CLI's, now and on every SIGWINCH (stdout's `resize`). */
function followTerminalSize(point: AttachPoint): () => void {
  const resize = () => {
    const size = terminalSize();
    if (size) resizeTerminal(point.control, size.rows, size.columns);
  };
  resize();
  process.stdout.on("resize", resize);
  return () => process.stdout.off("resize", resize);
}

/**
 * Sends the CLI's stdin to the process until EOF, which half-closes the socket: the process
 * reads EOF. On a terminal the detach keys end the session instead; they are not sent.
 */
function forwardStdin(conn: AttachConnection, keys: DetachKeyFilter | undefined, onDetach: () => void): () => void {
  const stdin = process.stdin;
  const onData = (chunk: Buffer) => {
    const { pass, detach } = keys ? keys.feed(chunk) : { pass: chunk, detach: false };
    if (pass.length > 0) {
      stdin.pause(); // one write in flight: a process that stops reading slows the pipe, not memory
      void conn.write(pass).then(
        () => stdin.resume(),
        () => {}, // conmon is gone: the session ends on its read side
      );
    }
    if (detach) onDetach();
  };
  const onEnd = () => conn.closeInput();
  stdin.on("data", onData);
  stdin.on("end", onEnd);
  stdin.resume();
  return () => {
    stdin.off("data", onData);
    stdin.off("end", onEnd);
    stdin.pause();
  };
}

function proxySignals(client: RuntimeClient, processId: string): () => void {
  const forward = (signal: NodeJS.Signals) => {
    void client.kill(processId, signal).catch((err: Error) => process.stderr.write(`berth: cannot forward ${signal}: ${err.message}\n`));
  };
  for (const s of PROXIED) process.on(s, forward);
  return () => {
    for (const s of PROXIED) process.off(s, forward);
  };
}

const PROXIED: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

const notATerminal = () => new BerthError("invalidArgument", "the input device is not a TTY: -t needs a terminal on stdin (drop -t to pipe input)");

/** `-t` needs a terminal on the CLI's stdin, as docker's does. */
export function requireTerminal(): void {
  if (!process.stdin.isTTY) throw notATerminal();
}

/** For an attached `run -t` / `exec -t`: docker's exit code 1, with its words, when stdin is no terminal. */
export function refuseWithoutTerminal(): number | undefined {
  if (process.stdin.isTTY) return undefined;
  process.stderr.write(`${errorLine(notATerminal())}\n`);
  return 1;
}
