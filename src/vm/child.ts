// Supervises one child process of the runtime service: streams its output to a sink, and turns
// its end into an Exit once the output is drained.
import type { ChildProcess } from "node:child_process";
import { constants } from "node:os";
import type { Exit } from "../model/exit.js";
import type { OutputSink } from "./driver.js";

const SIGNALS = constants.signals as Record<string, number>;

export function signalName(num: number): string | null {
  return Object.keys(SIGNALS).find((k) => SIGNALS[k] === num) ?? null;
}

/**
 * Node reports (code, signal). A child killed by a signal has code null; runc reports a
 * signalled container process as exit code 128+N, so both forms map to the same record.
 */
export function decodeExit(code: number | null, signal: NodeJS.Signals | null): { exitCode: number; signal?: string } {
  if (signal) return { exitCode: 128 + (SIGNALS[signal] ?? 0), signal };
  const exitCode = code ?? 255;
  const name = exitCode > 128 ? signalName(exitCode - 128) : null;
  return name ? { exitCode, signal: name } : { exitCode };
}

// After the child exits, its pipes may stay open if it left a background process holding them;
// wait this long for them to drain before reporting the exit anyway.
const DRAIN_GRACE_MS = 200;

/** Pipes output to the sink and resolves when the child has exited and its output is drained. */
export function superviseChild(child: ChildProcess, sink: OutputSink): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> {
  let open = 0;
  let drained: () => void = () => {};
  const allDrained = new Promise<void>((r) => (drained = r));
  for (const [stream, readable] of [["stdout", child.stdout], ["stderr", child.stderr]] as const) {
    if (!readable) continue;
    open++;
    readable.on("data", (chunk: Buffer) => sink(stream, chunk));
    readable.on("close", () => {
      if (--open === 0) drained();
    });
  }
  if (open === 0) drained();
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      const at = Date.now();
      const timer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, DRAIN_GRACE_MS);
      void allDrained.then(() => {
        clearTimeout(timer);
        resolve({ code, signal, at });
      });
    });
  });
}

export function exitFrom(processId: string, pid: number, code: number | null, signal: NodeJS.Signals | null, oomKilled: boolean, at: number): Exit {
  return { processId, pid, ...decodeExit(code, signal), oomKilled, exitedAt: at };
}
