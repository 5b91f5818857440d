// `run` and `create` share their flags; this file declares them on a commander command and turns
// the parsed values into the daemon's ContainerConfigInput. Values are checked here so a bad flag
// fails before anything is journaled; the daemon validates again.
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import type { Command } from "commander";
import { normaliseSignal, parseRestartPolicy, validateId, type ContainerConfigInput, type LogConfig, type LogDriver, type Mount, type StdinMode, LOG_DRIVERS } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import { collect } from "./commands/command.js";
import { parseBytes } from "./format.js";
import { networkConfig, networkFlags, type NetworkFlags } from "./network-options.js";

/** commander's accumulator for a repeatable flag (-e, -v, --filter). */

export interface ContainerFlags extends NetworkFlags {
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  readOnly?: boolean;
  volume: string[];
  restart?: string;
  stopSignal?: string;
  stopTimeout?: string;
  label: string[];
  rootfs?: string;
  hostname?: string;
  interactive?: boolean;
  tty?: boolean;
  logDriver?: string;
  logOpt?: string[];
  entrypoint?: string;
  pull?: string;
}

/** Declares the shared flags (process flags too: exec reuses -e, --env-file, -w, -u). */
export function processFlags(cmd: Command): Command {
  return cmd
    .option("-e, --env <K=V>", "set an environment variable (repeatable)", collect, [])
    .option("--env-file <file>", "read K=V lines from a file (repeatable)", collect, [])
    .option("-w, --workdir <dir>", "working directory inside the container")
    .option("-u, --user <user>", "user: name, uid or uid:gid");
}

/** -i and -t, shared by run, create and exec. */
export function stdioFlags(cmd: Command): Command {
  return cmd
    .option("-i, --interactive", "keep stdin open and forward the CLI's stdin to the process")
    .option("-t, --tty", "give the process a terminal (needs one on the CLI's stdin when attached)");
}

export function containerFlags(cmd: Command): Command {
  const c = stdioFlags(processFlags(cmd))
    .option("--name <id>", "container id (default: random)")
    .option("--rootfs <dir>", "use a host directory as the root filesystem instead of an image")
    .option("--entrypoint <cmd>", "override the image's entrypoint (\"\" clears it)")
    .option("--pull <policy>", "missing: pull an image not in the store; always: pull first; never", "missing")
    .option("--hostname <name>", "hostname inside the container (default: the id)")
    .option("-m, --memory <size>", "memory limit, e.g. 64m or 1g")
    .option("--cpus <n>", "CPU quota in cores, e.g. 0.5")
    .option("--pids-limit <n>", "maximum number of processes")
    .option("--read-only", "mount the root filesystem read-only")
    .option("-v, --volume <src:dst[:ro]>", "bind mount a host path: /abs, ./rel or ../rel (repeatable)", collect, [])
    .option("--restart <policy>", "no, on-failure[:max], always or unless-stopped", "no")
    .option("--stop-signal <sig>", "signal `stop` sends first (name or number; default: the image's StopSignal, else SIGTERM)")
    .option("--stop-timeout <seconds>", "seconds `stop` waits before SIGKILL", "10")
    .option("-l, --label <K=V>", "set a label (repeatable)", collect, []);
  return networkFlags(logFlags(c));
}

/** --log-driver and --log-opt: run and create, and the daemon's default for both. */
export function logFlags(cmd: Command): Command {
  return cmd
    .option("--log-driver <driver>", "k8s-file (conmon's log, what `logs` reads) or none (no log: output reaches an attached client only)")
    .option("--log-opt <K=V>", "max-size=SIZE (rotate the log at that size, e.g. 10m) or max-file=N (files kept, with max-size); repeatable", collect, []);
}

/** The log config --log-driver and --log-opt ask for; undefined when they ask for nothing (the daemon's default applies). */
export function logConfig(driver: string | undefined, opts: string[]): LogConfig | undefined {
  if (driver === undefined && opts.length === 0) return undefined;
  if (driver !== undefined && !LOG_DRIVERS.includes(driver as LogDriver)) throw bad(`invalid --log-driver "${driver}": expected ${LOG_DRIVERS.join(" or ")}`);
  const log: LogConfig = { driver: (driver ?? "k8s-file") as LogDriver };
  for (const [key, value] of Object.entries(keyValues(opts, "log-opt"))) {
    if (key === "max-size") log.maxSizeBytes = parseBytes(value);
    else if (key === "max-file") log.maxFiles = number(value, "--log-opt max-file", true)!;
    else throw bad(`unknown --log-opt "${key}": expected max-size or max-file`);
  }
  return log;
}

const bad = (message: string) => new BerthError("invalidArgument", message);

function keyValues(items: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) {
      // docker's `-e NAME` passes the caller's value through.
      if (what === "env" && eq === -1 && item !== "" && process.env[item] !== undefined) {
        out[item] = process.env[item]!;
        continue;
      }
      throw bad(`invalid ${what} "${item}": expected KEY=VALUE`);
    }
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** --env-file lines: KEY=VALUE; blank lines and # comments are skipped. */
function envFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw bad(`cannot read env file ${file}: ${(err as Error).message}`);
  }
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

export function processEnv(flags: Pick<ContainerFlags, "env" | "envFile">): Record<string, string> {
  return keyValues([...flags.envFile.flatMap(envFile), ...flags.env], "env");
}

function number(text: string | undefined, what: string, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw bad(`invalid ${what} "${text}": expected a ${integer ? "whole " : ""}number >= 0`);
  return n;
}

function volume(spec: string): Mount {
  const parts = spec.split(":");
  const [src, dst, mode] = parts;
  if (parts.length < 2 || parts.length > 3 || !src || !dst || (mode !== undefined && mode !== "ro" && mode !== "rw")) {
    throw bad(`invalid volume "${spec}": expected SRC:DST or SRC:DST:ro`);
  }
  if (!dst.startsWith("/")) throw bad(`invalid volume "${spec}": the destination must be an absolute path`);
  return { source: hostSource(src, spec), destination: dst, readOnly: mode === "ro" };
}

/**
 * As docker 23+ and podman: `/abs` is a host path, `./x` and `../x` (and `.`, `..`) are resolved
 * against the caller's working directory, and anything else would name a volume. The daemon gets
 * the normalised absolute path, which is what it journals and `inspect` shows.
 */
function hostSource(src: string, spec: string): string {
  if (src.startsWith("/")) return resolve(src);
  if (src === "." || src === ".." || src.startsWith("./") || src.startsWith("../")) return resolve(process.cwd(), src);
  throw bad(`invalid volume "${spec}": "${src}" would be a named volume, which berth does not support yet; give a host path, absolute or starting with ./ or ../`);
}

/**
 * -t and -i as a process spec's terminal and stdin. As docker's StdinOnce: an attached client's
 * stdin is closed when that client leaves (so a pipe's EOF reaches the process); a detached or
 * created one stays open for whoever attaches later.
 */
export function stdioSpec(flags: { interactive?: boolean; tty?: boolean }, attached: boolean): { terminal?: boolean; stdin?: StdinMode } {
  return { ...(flags.tty ? { terminal: true } : {}), ...(flags.interactive ? { stdin: attached ? "once" : "open" } : {}) };
}

export const newContainerId = () => randomBytes(6).toString("hex");

/** Flags and positionals → id and config. `rest` is [IMAGE, CMD...], or [CMD...] with --rootfs. */
export function containerConfig(flags: ContainerFlags, rest: string[], io: { attached: boolean } = { attached: false }): { id: string; config: ContainerConfigInput } {
  const id = flags.name ?? newContainerId();
  const validId = validateId(id);
  if (!validId.ok) throw BerthError.from(validId.error);
  const positional = [...rest];
  let rootfs: ContainerConfigInput["rootfs"];
  if (flags.rootfs !== undefined) rootfs = { path: resolve(flags.rootfs) };
  else {
    const image = positional.shift();
    if (!image) throw bad("missing IMAGE: expected `berth run [OPTIONS] IMAGE [CMD...]` or `--rootfs DIR [CMD...]`");
    rootfs = { image };
  }
  // No command: the daemon runs the image's Entrypoint and Cmd (busybox and --rootfs: sh).
  const init: ContainerConfigInput["init"] = { args: positional, env: processEnv(flags) };
  if (flags.workdir !== undefined) init.cwd = flags.workdir;
  if (flags.user !== undefined) init.user = flags.user;
  Object.assign(init, stdioSpec(flags, io.attached));

  const resources: NonNullable<ContainerConfigInput["resources"]> = {};
  if (flags.memory !== undefined) resources.memoryBytes = parseBytes(flags.memory);
  const cpus = number(flags.cpus, "--cpus", false);
  if (cpus !== undefined) resources.cpus = cpus;
  const pids = number(flags.pidsLimit, "--pids-limit", true);
  if (pids !== undefined) resources.pids = pids;

  const restart = parseRestartPolicy(flags.restart ?? "no");
  if (!restart.ok) throw BerthError.from(restart.error);
  const stopSignal = flags.stopSignal === undefined ? undefined : normaliseSignal(flags.stopSignal);
  if (stopSignal && !stopSignal.ok) throw BerthError.from(stopSignal.error);

  const config: ContainerConfigInput = {
    rootfs,
    init,
    resources,
    readOnlyRootfs: flags.readOnly === true,
    mounts: flags.volume.map(volume),
    ...networkConfig(flags),
    stopTimeoutSeconds: number(flags.stopTimeout ?? "10", "--stop-timeout", false)!,
    labels: keyValues(flags.label, "label"),
    restart: restart.value,
  };
  if (flags.hostname !== undefined) config.hostname = flags.hostname;
  const log = logConfig(flags.logDriver, flags.logOpt ?? []);
  if (log) config.log = log;
  if (stopSignal?.ok) config.stopSignal = stopSignal.value;
  if (flags.entrypoint !== undefined) config.entrypoint = flags.entrypoint;
  return { id, config };
}

/** A signal flag, checked before anything is sent. */
export function signalFlag(text: string): string {
  const s = normaliseSignal(text);
  if (!s.ok) throw BerthError.from(s.error);
  return s.value;
}

/** Every id argument is checked before any call, so a bad one changes nothing. */
export function checkIds(ids: string[]): string[] {
  for (const id of ids) {
    const v = validateId(id);
    if (!v.ok) throw BerthError.from(v.error);
  }
  return ids;
}
