// conmon, the monitor podman and CRI-O use, as each container's process keeper. conmon runs
// `runc create` (or `runc exec`) and stays the parent of the process: it writes its output to a
// k8s-file log and, when it dies, its exit code into an exit file whose mtime is the exit time.
// conmon double-forks into its own session, so it outlives the daemon that started it.
// Each process of a container (init or exec) has a directory of its own under procs/, because
// conmon names the exit file after the container, not the process (shared/design.md).
import { spawn } from "node:child_process";
import fs from "node:fs";
import type { Readable, Writable } from "node:stream";
import { basename, dirname, join } from "node:path";
import type { LogDriver } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import { startFailureReason, type MonitorIdentity } from "./driver.js";
import { findExecutable } from "./host.js";
import { readStartTime } from "./runtime-identity.js";

/** Where one process's conmon keeps its files. */
export interface ProcessFiles {
  dir: string;
  /** conmon's --exit-dir: it writes a file named after the container there when the process dies. */
  exitDir: string;
  /** conmon's --persist-dir: `exit` and, after an OOM kill, `oom`. */
  persistDir: string;
  /** runc's pid file: the host pid of the process. */
  pidFile: string;
  conmonPidFile: string;
  /** The OCI process spec of an exec'd process. */
  spec: string;
  /** The k8s-file log conmon writes the process's output to. */
  log: string;
}

export function processFiles(containerDir: string, containerId: string, processId: string): ProcessFiles & { exitFile: string } {
  const dir = join(containerDir, "procs", processId);
  const exitDir = join(dir, "exit");
  return {
    dir,
    exitDir,
    exitFile: join(exitDir, containerId),
    persistDir: join(dir, "persist"),
    pidFile: join(dir, "pid"),
    conmonPidFile: join(dir, "conmon.pid"),
    spec: join(dir, "process.json"),
    log: join(containerDir, "logs", `${processId}.log`),
  };
}

export interface LaunchOptions {
  containerId: string;
  processId: string;
  bundle: string;
  runcRoot: string;
  /** runc's own JSON error log. */
  runcLog: string;
  files: ProcessFiles;
  /** The attach sockets' directory. */
  socketDir: string;
  /** Run an exec'd process (its spec at files.spec) instead of creating the container. */
  exec?: boolean;
  /** A pty for the process: conmon takes its master from runc's console socket. */
  terminal?: boolean;
  /** An open stdin, fed from the attach socket; "once" closes it when the first client leaves. */
  stdin?: "once" | "open";
  /** "none": conmon keeps no log (output reaches attached clients only). Default k8s-file. */
  logDriver?: LogDriver;
}

/** Where a client attaches to a process: conmon's attach socket and control fifo (resize). */
export interface AttachPoint {
  /** The directory of the attach socket, whose name is `attach`: it is reached through the directory, so its path may be long. */
  dir: string;
  /** conmon's control fifo: "1 ROWS COLS\n" resizes the pty, "2 0 0\n" reopens the log. */
  control: string;
}

/**
 * Sends one line to conmon's control fifo ("1 ROWS COLS" resizes the pty, "2 0 0" reopens the
 * log). Opened without blocking: a fifo whose conmon has gone has no reader, and a blocking open
 * would wait forever; then, as when the fifo is full, the line is dropped (false).
 */
export function writeControl(control: string, line: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(control, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch {
    return false; // no reader: the process has ended
  }
  try {
    fs.writeSync(fd, `${line}\n`);
    return true;
  } catch {
    return false; // full: a resize is sent again at the next one, a reopen at the next check
  } finally {
    fs.closeSync(fd);
  }
}

/** Every conmon makes its attach socket and fifos in its `-b` directory (argsFor). */
export function attachPoint(o: Pick<LaunchOptions, "bundle" | "files" | "exec">): AttachPoint {
  const dir = o.exec ? o.files.dir : o.bundle;
  return { dir, control: join(dir, "ctl") };
}

const conmonBinary = () => findExecutable("conmon", fs.existsSync) ?? undefined;

export function runcBinary(): string | undefined {
  return findExecutable("runc", fs.existsSync) ?? undefined;
}

function argsFor(o: LaunchOptions, runc: string): string[] {
  const f = o.files;
  // Every conmon makes its control and window-size fifos (ctl, winsz) and attach link in its
  // `-b` directory: an exec's conmon gets its own process directory there, or it would take
  // over init's fifos in the bundle (runc exec does not read the bundle).
  const args = ["--api-version", "1", "-c", o.containerId, "-u", o.processId, "-n", o.containerId, "-r", runc, "-b", o.exec ? f.dir : o.bundle, "-p", f.pidFile];
  const log = o.logDriver === "none" ? "none" : `k8s-file:${basename(f.log)}`;
  args.push("--exit-dir", f.exitDir, "--persist-dir", f.persistDir, "-l", log, "--conmon-pidfile", f.conmonPidFile);
  args.push("--runtime-arg", `--root=${o.runcRoot}`, "--runtime-arg", `--log=${o.runcLog}`, "--runtime-arg", "--log-format=json", "--syslog=false", "--log-level=error");
  // conmon 2.1.6 gives up silently on an exec without a socket directory, although it serves no attach socket for one.
  args.push("--socket-dir-path", o.socketDir);
  // --full-attach: the socket is made in the -b directory whatever the length of its path.
  args.push("--full-attach");
  if (o.terminal) args.push("--terminal");
  if (o.stdin) args.push("--stdin");
  if (o.stdin === "open") args.push("--leave-stdin-open");
  if (o.exec) args.push("--exec", "--exec-process-spec", f.spec);
  // An exec someone attaches to waits for the start pipe until they have: its first output would be lost.
  if (attachesBeforeStart(o)) args.push("--exec-attach");
  return args;
}

// Without a log, an exec's output reaches only its client: that one attaches before it runs too.
const attachesBeforeStart = (o: LaunchOptions) => o.exec === true && (o.terminal === true || o.stdin !== undefined || o.logDriver === "none");

export interface Launched {
  pid: number;
  monitor: MonitorIdentity;
}

/** A conmon whose process is set up but not yet run: `start` runs it. */
export interface PendingLaunch {
  start(): Promise<Launched>;
}

/**
 * Starts conmon for one process and resolves once runc has created it (init) or started it
 * (exec): with the process's host pid and conmon's identity.
 */
export async function launch(o: LaunchOptions): Promise<Launched> {
  return (await prepareLaunch(o)).start();
}

/** One `{"data": N, "message": …}` message of conmon's on a pipe: the text up to its first `}`, or all of it at EOF. */
function firstMessage(pipe: NodeJS.ReadableStream, child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise<string>((resolve) => {
    let text = "";
    pipe.on("data", (b: Buffer) => {
      text += b.toString();
      if (text.includes("}")) resolve(text);
    });
    pipe.on("close", () => resolve(text));
    child.once("error", (e) => resolve(JSON.stringify({ data: -1, message: e.message })));
  });
}

/**
 * Spawns conmon for one process. conmon reports on its sync pipe (fd 3, `_OCI_SYNCPIPE`):
 * `{"data": PID}`, or `{"data": -1, "message": …}` when runc failed. The pipe is closed after
 * that first message; conmon writes an exec's exit to it too, but the exit file is the one
 * record read, so a daemon that died meanwhile misses nothing.
 * An exec with a terminal or stdin is attached to before it runs: conmon first waits on its
 * start pipe (fd 4), then says on its attach pipe (fd 5) that the attach socket is there, and
 * runs the process at the second write to the start pipe. Resolved here once the socket is there.
 */
export async function prepareLaunch(o: LaunchOptions): Promise<PendingLaunch> {
  const conmon = conmonBinary();
  const runc = runcBinary();
  if (!conmon) throw new BerthError("unsupported", "conmon was not found on PATH: install it (apt-get install conmon; scripts/setup.sh does)");
  if (!runc) throw new BerthError("unsupported", "runc was not found on PATH: install it (apt-get install runc; scripts/setup.sh does)");
  for (const d of [o.files.exitDir, o.files.persistDir]) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(join(o.files.log, ".."), { recursive: true });
  fs.mkdirSync(o.socketDir, { recursive: true });
  for (const stale of [o.files.pidFile, o.files.conmonPidFile]) fs.rmSync(stale, { force: true });
  // The log path is given relative to conmon's working directory: conmon splits `-l` at every
  // ':' (strtok), so a root whose path holds one could not be named in full.
  const attached = attachesBeforeStart(o);
  const env: NodeJS.ProcessEnv = { ...process.env, _OCI_SYNCPIPE: "3", ...(attached ? { _OCI_STARTPIPE: "4", _OCI_ATTACHPIPE: "5" } : {}) };
  const stdio: ("ignore" | "pipe")[] = ["ignore", "ignore", "pipe", "pipe", ...(attached ? (["pipe", "pipe"] as const) : [])];
  const child = spawn(conmon, argsFor(o, runc), { cwd: dirname(o.files.log), stdio, env, detached: true });
  child.unref();
  const sync = child.stdio[3]!;
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const reply = firstMessage(sync as NodeJS.ReadableStream, child);
  const finish = async () => {
    const text = await reply;
    sync.destroy();
    child.stderr!.destroy();
    return launched(o, text, stderr);
  };
  if (!attached) return { start: finish };
  const pipes = child.stdio as unknown as (Readable & Writable)[];
  const startPipe = pipes[4]!;
  const attachPipe = pipes[5]!;
  startPipe.write("0"); // conmon's first read: its cgroup is as it should be
  // The sync pipe answers first when runc failed before the attach socket was made.
  const ready = await Promise.race([firstMessage(attachPipe, child).then(() => true), reply.then(() => false)]);
  attachPipe.destroy();
  if (!ready) {
    startPipe.destroy();
    return { start: finish };
  }
  return {
    start: () => {
      startPipe.end("0");
      return finish();
    },
  };
}

function launched(o: LaunchOptions, reply: string, stderr: string): Launched {
  let message: { data?: number; message?: string };
  try {
    message = JSON.parse(reply.slice(0, reply.indexOf("}") + 1));
  } catch {
    throw new BerthError("internalError", `conmon for ${o.processId} ended without a report: ${stderr.trim() || "no output"}`);
  }
  if (typeof message.data !== "number" || message.data <= 0) {
    const detail = cleanRuncMessage(message.message ?? (stderr.trim() || "runc failed"));
    const why = startFailureReason(detail);
    throw new BerthError(why === "executableNotFound" ? "invalidArgument" : "internalError", `cannot start process ${o.processId}: ${detail}`, why);
  }
  const monitor = readMonitor(o.files.conmonPidFile);
  if (!monitor) throw new BerthError("internalError", `conmon for ${o.processId} did not write its pid file`);
  return { pid: message.data, monitor };
}

/** runc's create error arrives as a logrus line (`time=… level=error msg="…"`): keep the message. */
function cleanRuncMessage(text: string): string {
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(text);
  return (m ? m[1]!.replace(/\\(.)/g, "$1") : text).trim();
}

export function readMonitor(conmonPidFile: string): MonitorIdentity | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(conmonPidFile, "utf8").trim());
  } catch {
    return undefined; // no pid file: conmon never started
  }
  const startTime = readStartTime(pid);
  return Number.isInteger(pid) && pid > 0 && startTime !== null ? { pid, startTime } : undefined;
}

/** Is this very conmon still there? A zombie is not: this host's PID 1 reaps orphans only every second or two. */
export function monitorAlive(m: MonitorIdentity): boolean {
  if (readStartTime(m.pid) !== m.startTime) return false;
  try {
    const stat = fs.readFileSync(`/proc/${m.pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false; // it exited between the two reads
  }
}

/** What conmon recorded of a process that has died: its code, when, and whether the OOM killer did it. */
export interface RecordedExit {
  exitCode: number;
  /** ms since the epoch: the exit file's mtime (conmon writes it as the process is reaped). */
  exitedAt: number;
  oomKilled: boolean;
}

export function readRecordedExit(files: ProcessFiles & { exitFile: string }): RecordedExit | undefined {
  let text: string;
  let mtimeNs: bigint;
  try {
    text = fs.readFileSync(files.exitFile, "utf8");
    mtimeNs = fs.statSync(files.exitFile, { bigint: true }).mtimeNs;
  } catch {
    return undefined; // no exit file: the process has not died (or conmon died before writing it)
  }
  const exitCode = Number(text.trim());
  // conmon writes the file whole, but it may be read between its creation and its write.
  if (text.trim() === "" || !Number.isInteger(exitCode)) return undefined;
  return { exitCode, exitedAt: Number(mtimeNs / 1_000_000n), oomKilled: fs.existsSync(join(files.persistDir, "oom")) };
}

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // no pid file: runc never created the process
  }
}

/** The processes that have a conmon directory in the container's directory. */
export function processIdsIn(containerDir: string): string[] {
  try {
    return fs.readdirSync(join(containerDir, "procs"));
  } catch {
    return []; // no process was ever started
  }
}
