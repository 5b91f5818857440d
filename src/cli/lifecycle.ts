// Container lifecycle commands: run, create, start, exec, stop, kill, rm, wait, bootstrap,
// shutdown. Each is a thin sequence of daemon routes; the daemon's decider says what is allowed.
import { randomBytes } from "node:crypto";
import { BerthError, toBerthError } from "../model/errors.js";
import type { ContainerState } from "../projections/container.js";
import { attach, attachRun } from "./attach.js";
import { checkIds, containerConfig, processEnv, signalFlag, type ContainerFlags } from "./container-options.js";
import { EXIT, errorLine, exitCodeForError, type Session } from "./context.js";

const out = (line: string) => process.stdout.write(`${line}\n`);

export interface RunFlags extends ContainerFlags {
  rm?: boolean;
  detach?: boolean;
  interactive?: boolean;
}

/**
 * create + bootstrap + start, in one request; attached, it prints the output and exits with the
 * container's exit code. `--rm` is the container's own config (autoRemove): the daemon deletes
 * it when it stops, even if this CLI is gone by then; attached, the daemon sends the exit only
 * once that delete has committed.
 */
export async function run(session: Session, flags: RunFlags, rest: string[]): Promise<number> {
  const { id, config } = containerConfig(flags, rest);
  if (flags.rm) config.autoRemove = true;
  const client = await session.client(id);
  try {
    const stream = client.run(config, flags.detach ? { detach: true } : {});
    if (flags.detach) {
      for await (const _ of stream); // `started`, then the end
      out(id);
      return 0;
    }
    return (await attachRun(client, stream)).exitCode;
  } catch (err) {
    // One line, whatever failed: the create, the boot, or the start (runc's complaint, once).
    const e = toBerthError(err);
    process.stderr.write(`${errorLine(e)}\n`);
    return exitCodeForError(e);
  }
}

export async function create(session: Session, flags: ContainerFlags, rest: string[]): Promise<number> {
  const { id, config } = containerConfig(flags, rest);
  await (await session.client(id)).createContainer(config);
  out(id);
  return 0;
}

/**
 * Starts a created container (bootstrap, then init), a booted one (init), or a stopped one
 * again (shutdown, bootstrap, init), as docker's start does: the daemon's `start` route
 * (src/daemon/start-operation.ts). A running one is refused by the daemon's decider, so
 * nothing is journaled.
 */
export async function start(session: Session, flags: { attach?: boolean }, ids: string[]): Promise<number> {
  checkIds(ids);
  if (flags.attach && ids.length !== 1) throw new BerthError("invalidArgument", "start -a takes exactly one container");
  for (const id of ids) {
    const client = await session.client(id);
    const since = Date.now();
    await client.start(); // one request: the daemon runs shutdown, bootstrap and start as needed
    if (flags.attach) return (await attach(client, id, { since })).exitCode;
    out(id);
  }
  return 0;
}

export interface ExecFlags {
  detach?: boolean;
  interactive?: boolean;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
}

/** Runs a process in a running container; attached, exits with the process's code. */
export async function exec(session: Session, flags: ExecFlags, id: string, args: string[]): Promise<number> {
  checkIds([id]);
  if (args.length === 0) throw new BerthError("invalidArgument", "exec needs a command: berth exec ID CMD [ARG...]");
  const client = await session.client(id);
  const processId = `exec-${randomBytes(4).toString("hex")}`;
  const spec: { args: string[]; env: Record<string, string>; cwd?: string; user?: string } = { args, env: processEnv(flags) };
  // exec inherits the container's environment (PATH above all), as docker exec does.
  const state = await client.state<ContainerState>();
  spec.env = { ...state.config.init.env, ...spec.env };
  spec.cwd = flags.workdir ?? state.config.init.cwd;
  if (flags.user !== undefined) spec.user = flags.user;
  else if (state.config.init.user !== undefined) spec.user = state.config.init.user;
  await client.createProcess(processId, spec);
  try {
    await client.startProcess(processId);
  } catch (err) {
    const e = toBerthError(err);
    process.stderr.write(`${errorLine(e)}\n`);
    return exitCodeForError(e);
  }
  if (flags.detach) {
    out(processId);
    return 0;
  }
  return (await attach(client, processId)).exitCode;
}

export async function stop(session: Session, flags: { time?: string; signal?: string }, ids: string[]): Promise<number> {
  checkIds(ids);
  const signal = flags.signal !== undefined ? signalFlag(flags.signal) : undefined;
  const timeout = flags.time !== undefined ? Number(flags.time) : undefined;
  if (timeout !== undefined && !(timeout >= 0)) throw new BerthError("invalidArgument", `invalid -t "${flags.time}": expected seconds >= 0`);
  return eachId(ids, async (id) => {
    const opts: { signal?: string; timeoutInSeconds?: number } = {};
    if (signal !== undefined) opts.signal = signal;
    if (timeout !== undefined) opts.timeoutInSeconds = timeout;
    await (await session.client(id)).stop(opts);
  });
}

export async function kill(session: Session, flags: { signal: string }, ids: string[]): Promise<number> {
  checkIds(ids);
  const signal = signalFlag(flags.signal);
  return eachId(ids, async (id) => {
    await (await session.client(id)).kill(id, signal);
  });
}

export async function rm(session: Session, flags: { force?: boolean }, ids: string[]): Promise<number> {
  checkIds(ids);
  return eachId(ids, async (id) => {
    await (await session.client(id)).delete({ force: flags.force === true });
  });
}

/** The verbs that take only container ids and call the route of the same name for each. */
const eachContainer = (verb: "bootstrap" | "pause" | "unpause" | "shutdown") => async (session: Session, ids: string[]): Promise<number> => {
  checkIds(ids);
  return eachId(ids, async (id) => void (await (await session.client(id))[verb]()));
};

export const bootstrap = eachContainer("bootstrap");
export const pause = eachContainer("pause");
export const unpause = eachContainer("unpause");
export const shutdown = eachContainer("shutdown");

/** Prints each container's exit code; exits with the last one, as docker wait does. */
export async function wait(session: Session, ids: string[]): Promise<number> {
  checkIds(ids);
  let last = 0;
  const failed = await eachId(ids, async (id) => {
    const exit = await (await session.client(id)).wait(id);
    out(String(exit.exitCode));
    last = exit.exitCode;
  }, false);
  return failed || last;
}

/**
 * Applies one action per id, in order. A failure is reported and the rest still run, as with
 * docker; the command then exits 125.
 */
async function eachId(ids: string[], action: (id: string) => Promise<void>, echo = true): Promise<number> {
  let code = 0;
  for (const id of ids) {
    try {
      await action(id);
      if (echo) out(id);
    } catch (err) {
      if (ids.length === 1) throw err;
      process.stderr.write(`${errorLine(toBerthError(err))}\n`);
      code = EXIT.failure;
    }
  }
  return code;
}
