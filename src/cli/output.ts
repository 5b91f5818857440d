// The CLI's standard output and error when they are pipes. libuv writes to a pipe without
// blocking: what the kernel's 64 KiB pipe buffer cannot take is queued in the process, so a
// process.exit() right after printing drops the queue (`berth ls --format json | wc -c` got
// 65,536 bytes). And Node ignores SIGPIPE, so a reader that goes away (`| head -1`) turns the
// next write into an EPIPE 'error' event, which is a stack trace when nobody listens for it.
// Every exit of the CLI therefore goes through exitWhenDrained, and a closed pipe ends the CLI
// quietly with 0, as docker does.

/** Prints one line on stdout. */
export const out = (line: string) => process.stdout.write(`${line}\n`);

const streams = () => [process.stdout, process.stderr];

let guarded = false;

/**
 * Installs the closed-pipe handlers on stdout and stderr (once per process). A command exits 0
 * when its reader is gone: nothing more can be shown, and that is no failure of berth. `berth
 * daemon` passes "ignore": a supervisor that stops reading its output must not stop the daemon.
 */
export function guardPipes(onClosed: "exit" | "ignore" = "exit"): void {
  if (guarded) return;
  guarded = true;
  for (const stream of streams()) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE" && err.code !== "ECONNRESET") throw err;
      if (onClosed === "exit") process.exit(0);
    });
  }
}

/**
 * Writes text to a stream and, when the stream's queue is over its high-water mark, resolves
 * only once it has drained, so a fast producer (logs, events) never queues without bound.
 */
export function write(stream: NodeJS.WriteStream, text: string | Buffer): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

/** Resolves once everything written to the stream so far has been handed to the kernel. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  // Writes complete in order, so an empty write's callback runs after every earlier one.
  return new Promise((resolve) => stream.write("", () => resolve()));
}

/** Exits with `code` once stdout and stderr have drained: every byte reaches a pipe. */
export async function exitWhenDrained(code: number): Promise<never> {
  await Promise.all(streams().map(flushed));
  process.exit(code);
}
