// Container configuration: the types every layer agrees on, and their validation.
// Validation is pure: it returns a normalised value or a typed error, never throws.
import { constants } from "node:os";
import type { ErrorInfo } from "./errors.js";
import { validateImageRecorded, type Healthcheck } from "./image.js";
import { parseReference } from "./reference.js";
import { isMac, parseExtraHost, parseIp, parseNetworkMode, validateDns, validateNetworkName, validatePorts, DEFAULT_NETWORK, type DnsConfig, type ExtraHost, type PortMapping } from "./network.js";

export interface Rlimit {
  type: string; // "RLIMIT_NOFILE"
  soft: number;
  hard: number;
}

export interface ProcessSpec {
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** "uid", "uid:gid", or a name resolved through the rootfs's /etc/passwd. */
  user?: string;
  rlimits: Rlimit[];
  /** A pty as the process's stdin, stdout and stderr (`-t`): one stream, as in docker. */
  terminal: boolean;
  /**
   * An open stdin (`-i`), fed by attached clients: "once" is closed when the first client
   * leaves, so a pipe's EOF reaches the process (docker's StdinOnce); "open" stays open across
   * attaches (`run -d -i`). Absent: stdin is /dev/null.
   */
  stdin?: StdinMode;
}

export type StdinMode = "once" | "open";

export interface Mount {
  source: string;
  destination: string;
  readOnly: boolean;
}

export interface Resources {
  memoryBytes?: number;
  cpus?: number;
  pids?: number;
}

export type RestartPolicy =
  | { name: "no" }
  | { name: "on-failure"; maxRetries?: number }
  | { name: "always" }
  | { name: "unless-stopped" };

/**
 * Where the root filesystem comes from: a named image (built-in busybox, imported, or pulled) or
 * a host directory. A pulled image is `resolved` at create to the exact manifest and config it
 * ran, so the journal keeps them after the tag moves (configs journaled before pulls lack it).
 */
export type RootfsSource = { image: string; resolved?: ResolvedImage } | { path: string };

export interface ResolvedImage {
  /** The normalised reference: "docker.io/library/alpine:latest". */
  reference: string;
  manifest: string;
  config: string;
}

export interface ContainerConfig {
  rootfs: RootfsSource;
  init: ProcessSpec;
  hostname: string;
  resources: Resources;
  readOnlyRootfs: boolean;
  mounts: Mount[];
  /** "none", "host", "container:<id>" or a network's name (docs/network.md). */
  network: string;
  /** `-p`: published ports (a hostPort of 0 is picked at attach). Absent before networks: none. */
  ports?: PortMapping[];
  /** `-P`: publish every exposed port (the image's and `exposed`) on a picked host port. */
  publishAll?: boolean;
  /** `--expose` and the image's ExposedPorts, as "80/tcp". */
  exposed?: string[];
  /** `--network-alias`: more names the container answers to on its user-defined networks. */
  aliases?: string[];
  /** `--ip` and `--mac-address` on its network. */
  ip?: string;
  mac?: string;
  dns?: DnsConfig;
  /** `--add-host`: lines added to its /etc/hosts. */
  extraHosts?: ExtraHost[];
  stopSignal: string;
  stopTimeoutSeconds: number;
  labels: Record<string, string>;
  restart: RestartPolicy;
  /** `--rm`: the daemon deletes the container once it has stopped (configs journaled before it lack it: false). */
  autoRemove: boolean;
  /** Where output goes (configs journaled before it lack it: a k8s-file log, never rotated). */
  log?: LogConfig;
  /** The image's Volumes (ContainerCreated v2): recorded, not mounted, as berth has no volumes yet. */
  volumes?: string[];
  /** The image's Healthcheck (ContainerCreated v2): recorded; berth does not run it yet. */
  healthcheck?: Healthcheck;
}

/**
 * `--log-driver` and `--log-opt`, docker's json-file semantics on conmon's k8s-file: once the
 * current file reaches `maxSizeBytes` it becomes `.1` (and `.1` `.2`, …), keeping `maxFiles`
 * files in all, the current one included. "none" keeps no log: output reaches only an attached client.
 */
export interface LogConfig {
  driver: LogDriver;
  maxSizeBytes?: number;
  maxFiles?: number;
}

export type LogDriver = "k8s-file" | "none";
export const LOG_DRIVERS: readonly LogDriver[] = ["k8s-file", "none"];

/** What a client may send: everything but the init args is optional and defaulted. */
export type ContainerConfigInput = Partial<Omit<ContainerConfig, "init" | "resources">> & {
  /** Empty: the image's own Entrypoint and Cmd (busybox and a host rootfs: `sh`). */
  init: Partial<ProcessSpec> & { args: string[] };
  resources?: Resources;
  /** docker's --entrypoint; "" clears the image's. Consumed at create, never journaled. */
  entrypoint?: string;
};

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** runc spec's default; the host's hard nofile limit (20000) forbids podman's 1048576. */
export const DEFAULT_RLIMITS: Rlimit[] = [{ type: "RLIMIT_NOFILE", soft: 1024, hard: 1024 }];
export const HOST_NOFILE_HARD_LIMIT = 20000;

export type Validated<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };
const ok = <T>(value: T): Validated<T> => ({ ok: true, value });
const bad = <T>(message: string): Validated<T> => ({ ok: false, error: { code: "invalidArgument", message } });

const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

/** Ids name directories and sockets, so they must not contain path tricks. */
export function validateId(id: unknown, what = "container id"): Validated<string> {
  if (typeof id !== "string") return bad(`${what} must be a string`);
  if (!ID_PATTERN.test(id) || id.includes("..")) {
    const shown = id.length > 40 ? `${id.slice(0, 40)}…` : id;
    return bad(`invalid ${what} "${shown}": expected 1-64 characters of [a-zA-Z0-9_.-], starting with a letter or digit`);
  }
  return ok(id);
}

const SIGNALS = constants.signals as Record<string, number>;

/** Accepts "TERM", "SIGTERM", "sigterm" or "15"; returns the canonical name ("SIGTERM"). */
export function normaliseSignal(signal: unknown): Validated<string> {
  if (typeof signal === "number" || (typeof signal === "string" && /^\d+$/.test(signal))) {
    const num = Number(signal);
    const name = Object.keys(SIGNALS).find((k) => SIGNALS[k] === num);
    return name ? ok(name) : bad(`unknown signal number ${signal}`);
  }
  if (typeof signal !== "string") return bad("signal must be a name or a number");
  const upper = signal.toUpperCase();
  const name = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  return name in SIGNALS ? ok(name) : bad(`unknown signal "${signal}"`);
}

export function signalNumber(name: string): number {
  const num = SIGNALS[name];
  if (num === undefined) throw new Error(`unknown signal ${name}`);
  return num;
}

function isPlainRecordOfStrings(v: unknown): v is Record<string, string> {
  return !!v && typeof v === "object" && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
}

function isAbsolute(p: unknown): p is string {
  return typeof p === "string" && p.startsWith("/") && !p.split("/").includes("..") && !p.includes("\0");
}

export function validateProcessSpec(input: unknown, what = "process"): Validated<ProcessSpec> {
  if (!input || typeof input !== "object") return bad(`${what} must be an object`);
  const p = input as Record<string, unknown>;
  const args = p.args;
  if (!Array.isArray(args) || args.length === 0 || !args.every((a) => typeof a === "string") || args[0] === "") {
    return bad(`${what}.args must be a non-empty list of strings`);
  }
  const env = p.env ?? {};
  if (!isPlainRecordOfStrings(env)) return bad(`${what}.env must map names to strings`);
  for (const key of Object.keys(env)) {
    if (key === "" || key.includes("=") || key.includes("\0")) return bad(`${what}.env has an invalid name "${key}"`);
  }
  const cwd = p.cwd ?? "/";
  if (!isAbsolute(cwd)) return bad(`${what}.cwd must be an absolute path without "..", got ${JSON.stringify(cwd)}`);
  const user = p.user;
  if (user !== undefined && (typeof user !== "string" || !/^[a-zA-Z0-9_.-]+(:[a-zA-Z0-9_.-]+)?$/.test(user))) {
    return bad(`${what}.user must be "uid", "uid:gid" or a user name, got ${JSON.stringify(user)}`);
  }
  const rlimits = p.rlimits ?? DEFAULT_RLIMITS;
  if (!Array.isArray(rlimits)) return bad(`${what}.rlimits must be a list`);
  for (const r of rlimits as Rlimit[]) {
    if (!r || typeof r.type !== "string" || !/^RLIMIT_[A-Z]+$/.test(r.type)) return bad(`${what}.rlimits has an invalid type`);
    if (!Number.isInteger(r.soft) || !Number.isInteger(r.hard) || r.soft < 0 || r.soft > r.hard) {
      return bad(`${what}.rlimits ${r.type} needs integers with 0 <= soft <= hard`);
    }
    if (r.type === "RLIMIT_NOFILE" && r.hard > HOST_NOFILE_HARD_LIMIT) {
      return bad(`${what}.rlimits RLIMIT_NOFILE hard limit ${r.hard} exceeds the host's ${HOST_NOFILE_HARD_LIMIT}`);
    }
  }
  const terminal = p.terminal ?? false;
  if (typeof terminal !== "boolean") return bad(`${what}.terminal must be true or false`);
  const stdin = p.stdin;
  if (stdin !== undefined && stdin !== "once" && stdin !== "open") return bad(`${what}.stdin must be "once" or "open", got ${JSON.stringify(stdin)}`);
  const spec: ProcessSpec = { args: [...args], env: { ...env }, cwd, rlimits: rlimits.map((r: Rlimit) => ({ ...r })), terminal };
  if (user !== undefined) spec.user = user as string;
  if (stdin !== undefined) spec.stdin = stdin;
  return ok(spec);
}

/**
 * Bind mounts. The daemon resolves nothing against its own working directory, so a source must
 * be absolute (the CLI resolves ./ and ../ against the caller's); a bare name would be a named
 * volume, which berth does not have yet. The berth root is checked where it is known, with the
 * host's symlinks resolved (src/vm/mount-policy.ts).
 */
function validateMounts(input: unknown): Validated<Mount[]> {
  if (!Array.isArray(input)) return bad("mounts must be a list");
  const mounts: Mount[] = [];
  for (const [i, m] of (input as Partial<Mount>[]).entries()) {
    if (!m || typeof m !== "object") return bad(`mounts[${i}] must be an object`);
    if (!isAbsolute(m.source)) return bad(`mounts[${i}].source must be an absolute host path without "..", got ${JSON.stringify(m.source)}: the daemon resolves nothing against its own directory, and named volumes are not supported yet`);
    if (!isAbsolute(m.destination)) return bad(`mounts[${i}].destination must be an absolute path without "..", got ${JSON.stringify(m.destination)}`);
    mounts.push({ source: m.source, destination: m.destination, readOnly: m.readOnly === true });
  }
  return ok(mounts);
}

export function validateLog(input: unknown): Validated<LogConfig> {
  if (!input || typeof input !== "object") return bad("log must be an object");
  const l = input as Record<string, unknown>;
  if (!LOG_DRIVERS.includes(l.driver as LogDriver)) return bad(`log.driver must be one of ${LOG_DRIVERS.join(", ")}, got ${JSON.stringify(l.driver)}`);
  const log: LogConfig = { driver: l.driver as LogDriver };
  if (l.maxSizeBytes !== undefined) {
    if (!Number.isInteger(l.maxSizeBytes) || (l.maxSizeBytes as number) < 1) return bad("log max-size must be a positive number of bytes");
    log.maxSizeBytes = l.maxSizeBytes as number;
  }
  if (l.maxFiles !== undefined) {
    if (!Number.isInteger(l.maxFiles) || (l.maxFiles as number) < 1) return bad("log max-file must be a positive integer");
    if (log.maxSizeBytes === undefined && (l.maxFiles as number) > 1) return bad("log max-file needs max-size: files are rotated at that size");
    log.maxFiles = l.maxFiles as number;
  }
  if (log.driver === "none" && (log.maxSizeBytes !== undefined || log.maxFiles !== undefined)) return bad("the none log driver keeps no file: it takes no max-size or max-file");
  return ok(log);
}

const RESTART_NAMES = ["no", "on-failure", "always", "unless-stopped"];

export function validateConfig(input: unknown, id: string): Validated<ContainerConfig> {
  if (!input || typeof input !== "object") return bad("config must be an object");
  const c = input as Record<string, unknown>;

  const rootfs = (c.rootfs ?? { image: "busybox" }) as Record<string, unknown>;
  let source: RootfsSource;
  if (typeof rootfs.image === "string") {
    // An imported image's name (an id), or a reference as docker parses it.
    const image = validateId(rootfs.image, "image name");
    if (!image.ok && !parseReference(rootfs.image).ok) return parseReference(rootfs.image) as Validated<never>;
    source = { image: rootfs.image };
    const resolved = rootfs.resolved as Partial<ResolvedImage> | undefined;
    if (resolved !== undefined) {
      const digest = /^sha256:[a-f0-9]{64}$/;
      if (typeof resolved.reference !== "string" || !digest.test(resolved.manifest ?? "") || !digest.test(resolved.config ?? "")) return bad("rootfs.resolved must name a reference and sha256 manifest and config digests");
      source.resolved = { reference: resolved.reference, manifest: resolved.manifest!, config: resolved.config! };
    }
  } else if (isAbsolute(rootfs.path)) {
    source = { path: rootfs.path };
  } else {
    return bad('rootfs must be { image: NAME } or { path: ABSOLUTE_DIR }');
  }

  const init = validateProcessSpec(c.init, "init");
  if (!init.ok) return init;
  if (!init.value.env.PATH) init.value.env.PATH = DEFAULT_PATH;

  const hostname = c.hostname ?? id;
  if (typeof hostname !== "string" || !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(hostname)) return bad(`invalid hostname ${JSON.stringify(hostname)}`);

  const r = (c.resources ?? {}) as Record<string, unknown>;
  const resources: Resources = {};
  if (r.memoryBytes !== undefined) {
    if (!Number.isInteger(r.memoryBytes) || (r.memoryBytes as number) < 4 * 1024 * 1024) return bad("resources.memoryBytes must be an integer of at least 4 MiB");
    resources.memoryBytes = r.memoryBytes as number;
  }
  if (r.cpus !== undefined) {
    if (typeof r.cpus !== "number" || !(r.cpus > 0) || r.cpus > 1024) return bad("resources.cpus must be a number above 0");
    resources.cpus = r.cpus;
  }
  if (r.pids !== undefined) {
    if (!Number.isInteger(r.pids) || (r.pids as number) < 1) return bad("resources.pids must be a positive integer");
    resources.pids = r.pids as number;
  }

  const mounts = validateMounts(c.mounts ?? []);
  if (!mounts.ok) return mounts;

  const networking = validateNetworking(c);
  if (!networking.ok) return networking;

  const stopSignal = normaliseSignal(c.stopSignal ?? "SIGTERM");
  if (!stopSignal.ok) return stopSignal;
  const stopTimeoutSeconds = c.stopTimeoutSeconds ?? 10;
  if (typeof stopTimeoutSeconds !== "number" || !(stopTimeoutSeconds >= 0)) return bad("stopTimeoutSeconds must be a number >= 0");

  const labels = c.labels ?? {};
  if (!isPlainRecordOfStrings(labels)) return bad("labels must map names to strings");

  const restart = (c.restart ?? { name: "no" }) as RestartPolicy;
  if (!restart || !RESTART_NAMES.includes(restart.name)) return bad(`restart policy must be one of ${RESTART_NAMES.join(", ")}`);
  if (restart.name === "on-failure" && restart.maxRetries !== undefined && (!Number.isInteger(restart.maxRetries) || restart.maxRetries < 0)) {
    return bad("on-failure max retries must be a non-negative integer");
  }
  const autoRemove = c.autoRemove ?? false;
  if (typeof autoRemove !== "boolean") return bad(`autoRemove must be a boolean, got ${JSON.stringify(autoRemove)}`);
  // As docker: a container removed when it stops cannot also be restarted when it stops.
  if (autoRemove && restart.name !== "no") return bad(`Conflicting options: --restart and --rm (restart policy "${restart.name}" with autoRemove): a container removed when it stops cannot be restarted`);

  const log = validateLog(c.log ?? { driver: "k8s-file" });
  if (!log.ok) return log;
  const recorded = validateImageRecorded(c);
  if (!recorded.ok) return recorded;

  return ok({
    rootfs: source,
    init: init.value,
    hostname,
    resources,
    readOnlyRootfs: c.readOnlyRootfs === true,
    mounts: mounts.value,
    ...networking.value,
    stopSignal: stopSignal.value,
    stopTimeoutSeconds,
    labels: { ...labels },
    restart: restart.name === "on-failure" && restart.maxRetries !== undefined ? { name: "on-failure", maxRetries: restart.maxRetries } : ({ name: restart.name } as RestartPolicy),
    autoRemove,
    log: log.value,
    ...recorded.value,
  });
}

type Networking = Pick<ContainerConfig, "network" | "ports" | "publishAll" | "exposed" | "aliases" | "ip" | "mac" | "dns" | "extraHosts">;

/** The network settings; whether the network exists is the decider's to check. Empty lists are left out. */
function validateNetworking(c: Record<string, unknown>): Validated<Networking> {
  const network = c.network ?? DEFAULT_NETWORK;
  if (typeof network !== "string") return bad("network must be a string");
  const mode = parseNetworkMode(network);
  if (mode.kind === "network" && !validateNetworkName(mode.name).ok) return validateNetworkName(mode.name) as Validated<never>;
  if (mode.kind === "container" && !validateId(mode.container).ok) return validateId(mode.container) as Validated<never>;
  const out: Networking = { network };
  const onNetwork = mode.kind === "network";
  const ports = validatePorts(c.ports ?? []);
  if (!ports.ok) return ports;
  if ((ports.value.length > 0 || c.publishAll === true) && !onNetwork) return bad(`ports cannot be published with --network ${network}: publish them on a bridge network`);
  if (ports.value.length) out.ports = ports.value;
  if (c.publishAll === true) out.publishAll = true;
  const exposed = c.exposed ?? [];
  if (!Array.isArray(exposed) || !exposed.every((e) => typeof e === "string" && /^\d{1,5}\/(tcp|udp)$/.test(e))) return bad('exposed must be a list of "PORT/tcp" or "PORT/udp"');
  if (exposed.length) out.exposed = [...new Set(exposed as string[])];
  const aliases = c.aliases ?? [];
  if (!Array.isArray(aliases) || !aliases.every((a) => typeof a === "string" && /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(a))) return bad("network aliases must be host names");
  if (aliases.length && !onNetwork) return bad(`network aliases need a user-defined network, not --network ${network}`);
  if (aliases.length) out.aliases = [...aliases];
  for (const [key, valid] of [["ip", (v: string) => parseIp(v) !== undefined], ["mac", isMac]] as const) {
    const v = c[key];
    if (v === undefined) continue;
    if (typeof v !== "string" || !valid(v)) return bad(`invalid ${key === "ip" ? "--ip" : "--mac-address"} ${JSON.stringify(v)}`);
    if (!onNetwork) return bad(`--${key === "ip" ? "ip" : "mac-address"} needs a bridge network, not --network ${network}`);
    out[key] = v;
  }
  if (c.dns !== undefined) {
    const dns = validateDns(c.dns);
    if (!dns.ok) return dns;
    if (dns.value.servers.length || dns.value.search.length || dns.value.options.length) out.dns = dns.value;
  }
  const hosts = c.extraHosts ?? [];
  if (!Array.isArray(hosts)) return bad("extraHosts must be a list");
  const extraHosts: ExtraHost[] = [];
  for (const h of hosts as Partial<ExtraHost>[]) {
    const parsed = parseExtraHost(`${h?.name}:${h?.ip}`);
    if (!parsed.ok) return parsed;
    extraHosts.push(parsed.value);
  }
  if (extraHosts.length) out.extraHosts = extraHosts;
  return ok(out);
}

/** Parses docker's `on-failure:3` syntax. */
export function parseRestartPolicy(text: string): Validated<RestartPolicy> {
  const [name, max] = text.split(":");
  if (name === "on-failure") {
    if (max === undefined) return ok({ name });
    return /^\d+$/.test(max) ? ok({ name, maxRetries: Number(max) }) : bad(`invalid restart policy "${text}"`);
  }
  if (max === undefined && (name === "no" || name === "always" || name === "unless-stopped")) return ok({ name });
  return bad(`invalid restart policy "${text}": expected no, on-failure[:max], always or unless-stopped`);
}
