// Registry mirrors, as containers-registries.conf(5) (podman, CRI-O, skopeo) names them in its
// v2 format: `[[registry]]` tables with a `prefix`, an optional `location` that rewrites it,
// `insecure` and `blocked`, and `[[registry.mirror]]` tables tried in order before the
// location, each with its own `location`, `insecure` and `pull-from-mirror`. Pure: the daemon
// reads the file and hands the text in. Only the TOML that such files use is read (tables of
// arrays, strings, booleans, integers and one-line arrays); anything else names its line.
import type { ImageReference } from "./reference.js";
import type { Validated } from "./config.js";

export type PullFromMirror = "all" | "digest-only" | "tag-only";

export interface MirrorEntry {
  location: string;
  insecure: boolean;
  pullFromMirror: PullFromMirror;
}

export interface RegistryEntry {
  /** "docker.io", "docker.io/library", "*.example.com". */
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: MirrorEntry[];
}

export interface RegistriesConfig {
  registries: RegistryEntry[];
}

/** One place to pull from: a mirror, or the registry itself (last). */
export interface Endpoint {
  domain: string;
  path: string;
  insecure: boolean;
  mirror: boolean;
}

const bad = <T>(message: string): Validated<T> => ({ ok: false, error: { code: "invalidArgument", message } });
const LOCATION = /^[a-zA-Z0-9.-]+(:\d{1,5})?(\/[a-z0-9._/-]+)?$/;

type Value = string | boolean | number | string[];

/** One TOML value at the start of `text`, and what follows it. */
function value(text: string): { value: Value; rest: string } | undefined {
  let m = /^"((?:[^"\\]|\\.)*)"/.exec(text);
  if (m) return { value: m[1]!.replace(/\\(["\\])/g, "$1"), rest: text.slice(m[0].length) };
  m = /^'([^']*)'/.exec(text);
  if (m) return { value: m[1]!, rest: text.slice(m[0].length) };
  m = /^(true|false)\b/.exec(text);
  if (m) return { value: m[1] === "true", rest: text.slice(m[0].length) };
  m = /^-?\d+\b/.exec(text);
  if (m) return { value: Number(m[0]), rest: text.slice(m[0].length) };
  if (text.startsWith("[")) {
    const items: string[] = [];
    let rest = text.slice(1).trimStart();
    while (!rest.startsWith("]")) {
      const item = value(rest);
      if (!item || typeof item.value !== "string") return undefined;
      items.push(item.value);
      rest = item.rest.trimStart();
      if (rest.startsWith(",")) rest = rest.slice(1).trimStart();
      else if (!rest.startsWith("]")) return undefined;
    }
    return { value: items, rest: rest.slice(1) };
  }
  return undefined;
}

/** Parses a registries.conf (v2) text; `name` is the file, for the error messages. */
export function parseRegistriesConf(text: string, name = "registries.conf"): Validated<RegistriesConfig> {
  const registries: RegistryEntry[] = [];
  let table: "top" | "registry" | "mirror" | "other" = "top";
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    const at = `${name}:${i + 1}`;
    if (line === "" || line.startsWith("#")) continue;
    const header = /^(\[\[?)\s*([a-zA-Z0-9_.-]+)\s*(\]\]?)\s*(#.*)?$/.exec(line);
    if (header) {
      const [, open, key, close] = header;
      if (open!.length !== close!.length) return bad(`${at}: malformed table header ${JSON.stringify(line)}`);
      if (open === "[[" && key === "registry") {
        registries.push({ prefix: "", location: "", insecure: false, blocked: false, mirrors: [] });
        table = "registry";
      } else if (open === "[[" && key === "registry.mirror") {
        if (registries.length === 0) return bad(`${at}: [[registry.mirror]] before any [[registry]]`);
        registries.at(-1)!.mirrors.push({ location: "", insecure: false, pullFromMirror: "all" });
        table = "mirror";
      } else if (key!.startsWith("registries.")) {
        return { ok: false, error: { code: "unsupported", message: `${at}: [${key}] is the v1 format of registries.conf: berth reads the v2 format ([[registry]] with prefix, location and [[registry.mirror]])` } };
      } else table = "other";
      continue;
    }
    const kv = /^([a-zA-Z0-9_-]+)\s*=\s*(.*)$/.exec(line);
    const parsed = kv ? value(kv[2]!) : undefined;
    if (!kv || !parsed || !/^\s*(#.*)?$/.test(parsed.rest)) return bad(`${at}: expected key = "string", true, false, a number or ["a", "b"], got ${JSON.stringify(line.slice(0, 80))}`);
    const key = kv[1]!;
    const v = parsed.value;
    const want = <T>(type: string, ok: boolean, set: () => void): Validated<T> | undefined => (ok ? (set(), undefined) : bad(`${at}: ${key} must be a ${type}`));
    let err: Validated<never> | undefined;
    if (table === "registry") {
      const r = registries.at(-1)!;
      if (key === "prefix" || key === "location") err = want("string", typeof v === "string", () => (r[key] = v as string));
      else if (key === "insecure" || key === "blocked") err = want("boolean", typeof v === "boolean", () => (r[key] = v as boolean));
      else if (key === "mirror-by-digest-only") err = want("boolean", typeof v === "boolean", () => v && r.mirrors.forEach((m) => (m.pullFromMirror = "digest-only")));
    } else if (table === "mirror") {
      const m = registries.at(-1)!.mirrors.at(-1)!;
      if (key === "location") err = want("string", typeof v === "string", () => (m.location = v as string));
      else if (key === "insecure") err = want("boolean", typeof v === "boolean", () => (m.insecure = v as boolean));
      else if (key === "pull-from-mirror") err = want("one of all, digest-only, tag-only", v === "all" || v === "digest-only" || v === "tag-only", () => (m.pullFromMirror = v as PullFromMirror));
    }
    // Other keys (unqualified-search-registries, short-name-mode, …) are podman's: berth's short
    // names are docker.io's, as docker's, and the rest does not apply.
    if (err) return err;
  }
  for (const [i, r] of registries.entries()) {
    const what = `${name}: [[registry]] number ${i + 1}`;
    r.prefix ||= r.location;
    if (!r.prefix) return bad(`${what} has neither prefix nor location`);
    const wildcard = r.prefix.startsWith("*.");
    if (!LOCATION.test(wildcard ? r.prefix.slice(2) : r.prefix)) return bad(`${what}: invalid prefix ${JSON.stringify(r.prefix)}: expected host[:port][/path] or *.domain`);
    if (wildcard && r.location) return bad(`${what}: a wildcard prefix ${r.prefix} cannot have a location`);
    if (r.location && !LOCATION.test(r.location)) return bad(`${what}: invalid location ${JSON.stringify(r.location)}: expected host[:port][/path], without a scheme`);
    for (const m of r.mirrors) if (!LOCATION.test(m.location)) return bad(`${what}: invalid mirror location ${JSON.stringify(m.location)}: expected host[:port][/path], without a scheme`);
  }
  return { ok: true, value: { registries } };
}

const split = (location: string, rest: string): { domain: string; path: string } => {
  const full = rest ? `${location}/${rest}` : location;
  const slash = full.indexOf("/");
  if (slash < 0) return { domain: full, path: "" };
  return { domain: full.slice(0, slash), path: full.slice(slash + 1) };
};

/**
 * Where to pull `ref` from, in order: the mirrors of the registry entry with the longest
 * matching prefix (those its pull-from-mirror allows for a tag or a digest), then its location.
 * No entry: the reference's own registry. A blocked entry is an error.
 */
export function endpointsFor(config: RegistriesConfig | undefined, ref: ImageReference): Validated<Endpoint[]> {
  const full = `${ref.domain}/${ref.path}`;
  const matches = (config?.registries ?? []).filter((r) => (r.prefix.startsWith("*.") ? ref.domain.endsWith(r.prefix.slice(1)) : full === r.prefix || full.startsWith(`${r.prefix}/`)));
  const entry = matches.sort((a, b) => b.prefix.length - a.prefix.length)[0];
  if (!entry) return { ok: true, value: [{ domain: ref.domain, path: ref.path, insecure: false, mirror: false }] };
  if (entry.blocked) return { ok: false, error: { code: "invalidArgument", message: `registry ${entry.prefix} is blocked by the registries config: ${full} may not be pulled` } };
  const wildcard = entry.prefix.startsWith("*.");
  const rest = wildcard ? full.slice(ref.domain.length + 1) : full.slice(entry.prefix.length + 1);
  const byDigest = ref.digest !== undefined;
  const mirrors = entry.mirrors
    .filter((m) => m.pullFromMirror === "all" || (m.pullFromMirror === "digest-only") === byDigest)
    .map((m) => ({ ...split(m.location, rest), insecure: m.insecure, mirror: true }));
  const origin = wildcard || !entry.location ? { domain: ref.domain, path: ref.path } : split(entry.location, rest);
  return { ok: true, value: [...mirrors, { ...origin, insecure: entry.insecure, mirror: false }] };
}
