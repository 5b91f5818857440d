// Runs short host commands (cp, mknod, runc's one-shot verbs) and collects their output.
// Long-lived children (init, exec) are spawned by the drivers themselves.
import { spawn, type SpawnOptions } from "node:child_process";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCommand(cmd: string, args: string[], opts: SpawnOptions & { input?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({ code: code ?? 128 + (signal ? 9 : 0), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    if (opts.input !== undefined) {
      child.stdin!.on("error", () => {}); // a command that exits without reading its input
      child.stdin!.end(opts.input);
    }
  });
}

/** Finds an executable on PATH without running anything (cheaper than `which`). */
export function findExecutable(name: string, fsExists: (p: string) => boolean): string | null {
  if (name.includes("/")) return fsExists(name) ? name : null;
  for (const dir of (process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    if (dir && fsExists(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}
