// conmon, the monitor podman and CRI-O use, as each container's process keeper. conmon runs
// `runc create` (or `runc exec`) and stays the parent of the process: it writes its output to a
// k8s-file log and, when it dies, its exit code into an exit file whose mtime is the exit time.
// conmon double-forks into its own session, so it outlives the daemon that started it.
// Each process of a container (init or exec) has a directory of its own under procs/, because
// conmon names the exit file after the container, not the process (shared/design.md).
import { spawn } from "node:child_process";
import fs from "node:fs";
import { basename, dirname, join } from "node:path";
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
  args.push("--exit-dir", f.exitDir, "--persist-dir", f.persistDir, "-l", `k8s-file:${basename(f.log)}`, "--conmon-pidfile", f.conmonPidFile);
  args.push("--runtime-arg", `--root=${o.runcRoot}`, "--runtime-arg", `--log=${o.runcLog}`, "--runtime-arg", "--log-format=json", "--syslog=false", "--log-level=error");
  // conmon 2.1.6 gives up silently on an exec without a socket directory, although it serves no attach socket for one.
  args.push("--socket-dir-path", o.socketDir);
  if (o.exec) args.push("--exec", "--exec-process-spec", f.spec);
  else args.push("--full-attach");
  return args;
}

/**
 * Starts conmon for one process and resolves once runc has created it (init) or started it
 * (exec): with the process's host pid and conmon's identity. conmon reports on its sync pipe
 * (fd 3, `_OCI_SYNCPIPE`): `{"data": PID}`, or `{"data": -1, "message": …}` when runc failed.
 * The pipe is closed after that first message; conmon writes an exec's exit to it too, but the
 * exit file is the one record read, so a daemon that died meanwhile misses nothing.
 */
export async function launch(o: LaunchOptions): Promise<{ pid: number; monitor: MonitorIdentity }> {
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
  const child = spawn(conmon, argsFor(o, runc), { cwd: dirname(o.files.log), stdio: ["ignore", "ignore", "pipe", "pipe"], env: { ...process.env, _OCI_SYNCPIPE: "3" }, detached: true });
  child.unref();
  const sync = child.stdio[3]!;
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const reply = await new Promise<string>((resolve) => {
    let text = "";
    sync.on("data", (b: Buffer) => {
      text += b.toString();
      if (text.includes("}")) resolve(text);
    });
    sync.on("close", () => resolve(text));
    child.once("error", (e) => resolve(JSON.stringify({ data: -1, message: e.message })));
  });
  sync.destroy();
  child.stderr!.destroy();
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
