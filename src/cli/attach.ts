// The attached half of `run`, `start -a` and `exec`: stream one process's output (stdout to
// stdout, stderr to stderr) until it exits, then return its exit. Ctrl-C is forwarded as SIGINT;
// a second Ctrl-C detaches and leaves the process running.
import type { ExitStatus, RuntimeClient } from "../ipc/runtime-client.js";
import type { LogEntry } from "../vm/logs.js";

export interface AttachOptions {
  /** Only output at or after this time (ms): `start -a` of a container that ran before. */
  since?: number;
  /** Called on the second Ctrl-C; the process keeps running. */
  onDetach?: () => never;
  /**
   * Starts the process once its output stream and its wait are open (`run`): a container the
   * daemon removes as soon as it stops (`--rm`) may be gone before a later request arrives.
   */
  start?: () => Promise<unknown>;
}

export async function attach(client: RuntimeClient, processId: string, opts: AttachOptions = {}): Promise<ExitStatus> {
  const printed = { stdout: 0, stderr: 0 };
  // Until the start has answered, lines are held: a start that fails has said it all already
  // (runc's own complaint would otherwise be printed twice).
  let held: LogEntry[] | undefined = opts.start ? [] : undefined;
  const print = (e: LogEntry) => {
    if (e.p !== processId) return;
    if (held) return void held.push(e);
    printed[e.s]++;
    (e.s === "stdout" ? process.stdout : process.stderr).write(`${e.line}\n`);
  };
  const query = opts.since !== undefined ? { since: opts.since } : {};
  const stream = client.logs<LogEntry>({ ...query, follow: true });
  let complete = false;
  const pump = (async () => {
    try {
      for await (const e of stream) print(e);
      complete = true;
    } catch {
      // The service went away mid-stream; the catch-up below reads what it left on disk.
    }
  })();
  let waited: Promise<ExitStatus> | undefined;
  if (opts.start) {
    waited = client.wait(processId);
    waited.catch(() => {}); // awaited below; a failed start must not leave it unhandled
    try {
      await opts.start();
    } catch (err) {
      stream.cancel();
      throw err;
    }
    const lines = held!;
    held = undefined;
    lines.forEach(print);
  }

  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      void client.kill(processId, "SIGINT").catch((err: Error) => process.stderr.write(`berth: cannot forward SIGINT: ${err.message}\n`));
      return;
    }
    process.stderr.write(`berth: detached from ${processId}; it keeps running\n`);
    stream.cancel();
    if (opts.onDetach) opts.onDetach();
    process.exit(0);
  };
  process.on("SIGINT", onSigint);
  try {
    const exit = await (waited ?? client.wait(processId));
    // A stream opened before init started ends on its own once init is done, with every line:
    // the service flushes a process's output before it records the exit.
    if (opts.start && processId === client.id) {
      await pump;
      if (complete) return exit;
    }
    // The follow stream and the exit travel different paths, so the stream may lag. The files
    // now hold every line: print what the stream has not printed yet, counted per stream (each
    // file is in order).
    stream.cancel();
    await pump;
    const rest = { ...printed };
    for await (const e of client.logs<LogEntry>(query)) {
      if (e.p !== processId) continue;
      if (rest[e.s] > 0) rest[e.s]--;
      else print(e);
    }
    return exit;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
