// OCI and Docker image formats as berth reads them, and the pure rules around them: which
// manifest of an index fits a platform, and how an image's config merges with the user's flags
// (docker's rules). No I/O: the registry client and the store feed these values in.
import type { ContainerConfigInput, Validated } from "./config.js";
import { formatPlatform, type Platform } from "./reference.js";

export const MEDIA = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
} as const;

/** What a manifest request accepts, as docker sends it. */
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(", ");

/** Manifests and configs are small; a bigger one is refused before it is parsed (containerd's limit). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform & { "os.version"?: string };
  annotations?: Record<string, string>;
}

export type Manifest =
  | { kind: "index"; mediaType: string; manifests: Descriptor[] }
  | { kind: "image"; mediaType: string; config: Descriptor; layers: Descriptor[] };

export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
  config?: {
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    Env?: string[] | null;
    WorkingDir?: string;
    User?: string;
    StopSignal?: string;
    Labels?: Record<string, string> | null;
    /** Keys as "80/tcp" (a bare "80" means tcp); the values are empty objects. */
    ExposedPorts?: Record<string, unknown> | null;
    /** Paths the image wants as volumes: recorded in the container's config, not mounted (berth has no volumes yet). */
    Volumes?: Record<string, unknown> | null;
    /** docker's: durations in nanoseconds. Recorded in the container's config; berth does not run it yet. */
    Healthcheck?: { Test?: string[] | null; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number } | null;
  };
}

/** An image's Healthcheck as the container's config records it (durations in nanoseconds, as docker's). */
export interface Healthcheck {
  /** ["CMD", args…], ["CMD-SHELL", command] or ["NONE"]. */
  test: string[];
  intervalNs?: number;
  timeoutNs?: number;
  startPeriodNs?: number;
  retries?: number;
}

/** What the image says for later features, recorded in the config: its Volumes and Healthcheck. */
export type ImageRecorded = { volumes?: string[]; healthcheck?: Healthcheck };

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const bad = <T>(message: string): Validated<T> => ({ ok: false, error: { code: "invalidArgument", message } });

function descriptor(d: unknown, what: string): Validated<Descriptor> {
  const x = d as Descriptor | null;
  if (!x || typeof x !== "object" || typeof x.mediaType !== "string" || typeof x.digest !== "string" || !Number.isSafeInteger(x.size) || x.size < 0) {
    return bad(`${what} is not a descriptor: expected mediaType, digest and size`);
  }
  if (!DIGEST.test(x.digest)) return { ok: false, error: { code: "unsupported", message: `${what} has digest ${JSON.stringify(x.digest.slice(0, 80))}: only sha256 is supported` } };
  return { ok: true, value: x };
}

/** Parses a manifest body by its media type (the header's, else the body's own field). */
export function parseManifest(body: string, headerType: string | undefined): Validated<Manifest> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return bad("the manifest is not JSON");
  }
  const type = (typeof json.mediaType === "string" ? json.mediaType : undefined) ?? headerType?.split(";")[0]?.trim() ?? "";
  const isIndex = type === MEDIA.ociIndex || type === MEDIA.dockerList || (type === "" && Array.isArray(json.manifests));
  const isImage = type === MEDIA.ociManifest || type === MEDIA.dockerManifest || (type === "" && Array.isArray(json.layers));
  if (isIndex) {
    if (!Array.isArray(json.manifests)) return bad("the index lists no manifests");
    const manifests: Descriptor[] = [];
    for (const [i, m] of json.manifests.entries()) {
      const d = descriptor(m, `manifests[${i}]`);
      if (!d.ok) return d;
      manifests.push(d.value);
    }
    return { ok: true, value: { kind: "index", mediaType: type || MEDIA.ociIndex, manifests } };
  }
  if (isImage) {
    const config = descriptor(json.config, "config");
    if (!config.ok) return config;
    if (!Array.isArray(json.layers)) return bad("the manifest lists no layers");
    const layers: Descriptor[] = [];
    for (const [i, l] of json.layers.entries()) {
      const d = descriptor(l, `layers[${i}]`);
      if (!d.ok) return d;
      layers.push(d.value);
    }
    return { ok: true, value: { kind: "image", mediaType: type || MEDIA.ociManifest, config: config.value, layers } };
  }
  return { ok: false, error: { code: "unsupported", message: `unsupported manifest media type ${JSON.stringify(type.slice(0, 100))}: expected an OCI or Docker v2 schema 2 manifest or index` } };
}

/** How a layer's bytes are packed, from its media type. */
export function layerCompression(mediaType: string): Validated<"gzip" | "none"> {
  if (mediaType.endsWith("+zstd") || mediaType.endsWith(".zstd")) return { ok: false, error: { code: "unsupported", message: `layer media type ${mediaType}: zstd-compressed layers are not supported yet` } };
  if (mediaType.includes("nondistributable") || mediaType.includes("foreign")) return { ok: false, error: { code: "unsupported", message: `layer media type ${mediaType}: foreign layers are not supported` } };
  if (mediaType.endsWith("tar+gzip") || mediaType.endsWith("tar.gzip")) return { ok: true, value: "gzip" };
  if (mediaType.endsWith(".tar") || mediaType.endsWith("layer.v1.tar")) return { ok: true, value: "none" };
  return { ok: false, error: { code: "unsupported", message: `unsupported layer media type ${JSON.stringify(mediaType)}` } };
}

/**
 * The manifest of an index for a platform, as containerd's platform matcher picks it: the same
 * os and architecture, and the variant when one is asked for (arm64 defaults to v8).
 */
export function selectManifest(manifests: Descriptor[], want: Platform): Validated<Descriptor> {
  const variantOf = (p: Platform) => p.variant ?? (p.architecture === "arm64" ? "v8" : undefined);
  const fits = manifests.filter((m) => m.platform && m.platform.os === want.os && m.platform.architecture === want.architecture);
  const exact = fits.find((m) => variantOf(m.platform!) === variantOf(want));
  const chosen = exact ?? (want.variant === undefined ? fits[0] : undefined);
  if (chosen) return { ok: true, value: chosen };
  const offered = manifests.map((m) => (m.platform ? formatPlatform(m.platform) : "unknown")).join(", ") || "none";
  return { ok: false, error: { code: "notFound", message: `no manifest for platform ${formatPlatform(want)} in the index: it offers ${offered}` } };
}

/** The platform an image config says it is for. */
export const configPlatform = (c: ImageConfig): Platform => ({ os: c.os ?? "linux", architecture: c.architecture ?? "unknown", ...(c.variant ? { variant: c.variant } : {}) });

/** What the user said on the command line, beyond the config input: docker's --entrypoint. */
export interface UserProcessFlags {
  /** Present when --entrypoint was given; "" resets the image's entrypoint. */
  entrypoint?: string;
}

/**
 * docker's rules for an image's config under the user's flags: --entrypoint replaces the
 * image's Entrypoint and drops its Cmd; CMD... replaces Cmd; the process runs Entrypoint+Cmd.
 * The image's Env comes first and -e overrides it; -w, -u and --stop-signal win over
 * WorkingDir, User and StopSignal; -l labels over the image's.
 */
export function mergeImageConfig(input: ContainerConfigInput, flags: UserProcessFlags, image: ImageConfig): Validated<ContainerConfigInput> {
  const c = image.config ?? {};
  const entrypoint = flags.entrypoint !== undefined ? (flags.entrypoint === "" ? [] : [flags.entrypoint]) : (c.Entrypoint ?? []);
  const userArgs = input.init.args ?? [];
  const cmd = userArgs.length > 0 ? userArgs : flags.entrypoint !== undefined ? [] : (c.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) return bad("no command specified: the image has no Entrypoint or Cmd; give one after the image name");
  const env: Record<string, string> = {};
  for (const kv of c.Env ?? []) {
    const eq = kv.indexOf("=");
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const init: ContainerConfigInput["init"] = { ...input.init, args, env: { ...env, ...(input.init.env ?? {}) } };
  if (input.init.cwd === undefined && c.WorkingDir) init.cwd = c.WorkingDir;
  if (input.init.user === undefined && c.User) init.user = c.User;
  const merged: ContainerConfigInput = { ...input, init };
  if (input.stopSignal === undefined && c.StopSignal) merged.stopSignal = c.StopSignal;
  if (c.Labels) merged.labels = { ...c.Labels, ...(input.labels ?? {}) };
  const exposed = imageExposedPorts(c.ExposedPorts);
  if (exposed.length > 0) merged.exposed = [...new Set([...exposed, ...(input.exposed ?? [])])];
  const volumes = Object.keys(c.Volumes ?? {}).filter((v) => v.startsWith("/") && !v.split("/").includes(".."));
  if (volumes.length > 0) merged.volumes = volumes;
  const h = c.Healthcheck;
  if (h && Array.isArray(h.Test) && h.Test.length > 0 && h.Test.every((t) => typeof t === "string")) {
    const healthcheck: Healthcheck = { test: [...h.Test] };
    const ns = (v: unknown) => (Number.isSafeInteger(v) && (v as number) > 0 ? (v as number) : undefined);
    for (const [from, to] of [["Interval", "intervalNs"], ["Timeout", "timeoutNs"], ["StartPeriod", "startPeriodNs"], ["Retries", "retries"]] as const) {
      const v = ns(h[from]);
      if (v !== undefined) healthcheck[to] = v;
    }
    merged.healthcheck = healthcheck;
  }
  return { ok: true, value: merged };
}

/** config.volumes and config.healthcheck, checked: only the daemon's create writes them, from the image. */
export function validateImageRecorded(c: Record<string, unknown>): Validated<ImageRecorded> {
  const out: ImageRecorded = {};
  if (c.volumes !== undefined) {
    if (!Array.isArray(c.volumes) || !c.volumes.every((v) => typeof v === "string" && v.startsWith("/"))) return bad("volumes must be a list of absolute paths");
    if (c.volumes.length > 0) out.volumes = [...new Set(c.volumes as string[])];
  }
  if (c.healthcheck !== undefined) {
    const h = c.healthcheck as Partial<Healthcheck> | null;
    if (!h || !Array.isArray(h.test) || h.test.length === 0 || !h.test.every((t) => typeof t === "string")) return bad("healthcheck.test must be a non-empty list of strings");
    const healthcheck: Healthcheck = { test: [...h.test] };
    for (const k of ["intervalNs", "timeoutNs", "startPeriodNs", "retries"] as const) {
      if (h[k] === undefined) continue;
      if (!Number.isSafeInteger(h[k]) || h[k]! <= 0) return bad(`healthcheck.${k} must be a positive integer`);
      healthcheck[k] = h[k];
    }
    out.healthcheck = healthcheck;
  }
  return { ok: true, value: out };
}

/**
 * An image's ExposedPorts keys as the config's `exposed` holds them ("80/tcp"): a bare port is
 * tcp, as docker reads it. A key berth cannot publish (sctp, a bad number) is passed over
 * rather than failing the create: `-P` publishes the rest.
 */
export function imageExposedPorts(ports: Record<string, unknown> | null | undefined): string[] {
  const out: string[] = [];
  for (const key of Object.keys(ports ?? {})) {
    const m = /^(\d{1,5})(?:\/(tcp|udp))?$/i.exec(key.trim());
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) continue;
    out.push(`${Number(m[1])}/${(m[2] ?? "tcp").toLowerCase()}`);
  }
  return out;
}
