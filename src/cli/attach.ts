// The attached half of `run`, `start -a` and `exec`: stream one process's output (stdout to
// stdout, stderr to stderr) until it exits, then return its exit. Ctrl-C is forwarded as SIGINT;
// a second Ctrl-C detaches and leaves the process running. Output is written with backpressure
// (output.ts), so a container that prints faster than the terminal or pipe reads is slowed down
// along the whole path instead of being queued in memory. `run` gets all of it, output and exit,
// on its one request (the daemon's run route); `start -a` and `exec` follow the logs and wait.
import { IDLE_AFTER_EXIT_MS } from "../model/budget.js";
import { BerthError } from "../model/errors.js";
import type { ExitStatus, RunItem, RuntimeClient } from "../ipc/runtime-client.js";
import { entryText, type LogEntry } from "../vm/logs.js";
import { exitWhenDrained, write } from "./output.js";

export interface AttachOptions {
  /** Only output at or after this time (ms): `start -a` of a container that ran before. */
  since?: number;
  /** Called on the second Ctrl-C, before the CLI exits 0; the process keeps running. */
  onDetach?: () => void;
}

type Stream = LogEntry["s"];


/** Prints one output entry to the stream it came from, awaiting the pipe. */
async function printEntry(e: LogEntry): Promise<void> {
  const sent = write(e.s === "stdout" ? process.stdout : process.stderr, entryText(e));
  if (sent) await sent;
}

/**
 * Until the returned function is called: the first Ctrl-C is forwarded to the process as
 * SIGINT, the second detaches (`detach`, then exit 0 once the output has drained).
 */
function forwardInterrupts(client: RuntimeClient, processId: string, detach: () => void): () => void {
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      void client.kill(processId, "SIGINT").catch((err: Error) => process.stderr.write(`berth: cannot forward SIGINT: ${err.message}\n`));
      return;
    }
    process.stderr.write(`berth: detached from ${processId}; it keeps running\n`);
    detach();
    void exitWhenDrained(0);
  };
  process.on("SIGINT", onSigint);
  return () => process.off("SIGINT", onSigint);
}

/**
 * `run`: prints what the daemon's run stream sends (the daemon has made sure it is every line,
 * once) and returns the exit it ends with. Ctrl-C is forwarded once init has started.
 */
export async function attachRun(client: RuntimeClient, stream: AsyncIterable<RunItem> & { cancel(): void }, onBooted?: () => Promise<unknown>): Promise<ExitStatus> {
  let stopForwarding = () => {};
  let session: Promise<unknown> | undefined;
  try {
    for await (const item of stream) {
      switch (item.type) {
        case "booted":
          // A container without a log (--log-driver none): its output comes from conmon's attach socket.
          session = onBooted?.();
          session?.catch(() => stream.cancel());
          break;
        case "started":
          if (!session) stopForwarding = forwardInterrupts(client, client.id, () => stream.cancel());
          break;
        case "output":
          await printEntry(item.entry);
          break;
        case "exit":
          await session;
          return item.exit;
      }
    }
    await session;
  } finally {
    stopForwarding();
  }
  throw new BerthError("internalError", `run of ${client.id} ended without an exit status`);
}

export async function attach(client: RuntimeClient, processId: string, opts: AttachOptions = {}): Promise<ExitStatus> {
  // Per stream: the time of the last entry printed, and how many entries were printed at that time.
  const seen: Record<Stream, { t: number | undefined; n: number }> = { stdout: { t: undefined, n: 0 }, stderr: { t: undefined, n: 0 } };
  let printedAt = 0;
  const print = async (e: LogEntry) => {
    if (e.p !== processId) return;
    const s = seen[e.s];
    if (e.t === s.t) s.n++;
    else Object.assign(s, { t: e.t, n: 1 });
    printedAt = Date.now();
    await printEntry(e);
  };
  const query = { processId, ...(opts.since !== undefined ? { since: opts.since } : {}) };
  const stream = client.logs<LogEntry>({ ...query, follow: true });
  let cancelled = false;
  let complete = false;
  const pump = (async () => {
    try {
      for await (const e of stream) await print(e);
      complete = !cancelled;
    } catch {
      // The service went away mid-stream; the catch-up below reads what it left on disk.
    }
  })();

  const stopForwarding = forwardInterrupts(client, processId, () => {
    cancelled = true;
    stream.cancel();
    opts.onDetach?.();
  });
  try {
    const exit = await client.wait(processId);
    // The follow ends by itself once the process's last output is read. A stream that ended
    // early (the daemon went away) or stalls is completed from the files, which hold every line
    // once the exit is recorded.
    const stop = () => {
      cancelled = true;
      stream.cancel();
    };
    const watchdog = setInterval(() => {
      if (Date.now() - printedAt > IDLE_AFTER_EXIT_MS) stop();
    }, IDLE_AFTER_EXIT_MS);
    try {
      await pump;
    } finally {
      clearInterval(watchdog);
    }
    if (!complete) await catchUp(client, processId, opts.since, seen, print);
    return exit;
  } finally {
    stopForwarding();
  }
}

/** Prints, per stream, what the follow stream did not: entries from the last printed time on, minus those already printed. */
async function catchUp(client: RuntimeClient, processId: string, since: number | undefined, seen: Record<Stream, { t: number | undefined; n: number }>, print: (e: LogEntry) => Promise<void>) {
  for (const s of ["stdout", "stderr"] as const) {
    const { t, n } = seen[s];
    const from = t ?? since;
    let skip = t !== undefined ? n : 0;
    const q = { processId, ...(from !== undefined ? { since: from } : {}), ...(s === "stdout" ? { stderr: false } : { stdout: false }) };
    for await (const e of client.logs<LogEntry>(q)) {
      if (e.p !== processId) continue;
      if (skip > 0 && e.t === t) {
        skip--;
        continue;
      }
      await print(e);
    }
  }
}
