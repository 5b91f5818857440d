// Image references as docker parses them (distribution/reference): `alpine` is
// `docker.io/library/alpine:latest`, `host:port/ns/name:tag` names its own registry, and
// `name@sha256:…` pins a manifest. Pure: it returns a normalised reference or a typed error.
import type { Validated } from "./config.js";

export interface ImageReference {
  /** The registry host, with its port: "docker.io", "127.0.0.1:5000". */
  domain: string;
  /** The repository inside it: "library/alpine", "ns/name". */
  path: string;
  /** Absent only when a digest is given without a tag. */
  tag?: string;
  /** "sha256:<64 hex>". */
  digest?: string;
}

export const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DOMAIN = "index.docker.io";
const MAX_NAME = 255;

// The grammar of distribution/reference/regexp.go.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(`^${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

const bad = (text: string, why: string): Validated<ImageReference> => ({
  ok: false,
  error: { code: "invalidArgument", message: `invalid reference format ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}: ${why}` },
});

/** Parses and normalises a reference; a name without tag or digest gets `latest`. */
export function parseReference(text: unknown): Validated<ImageReference> {
  if (typeof text !== "string" || text === "") return bad(String(text ?? ""), "expected [HOST[:PORT]/]NAME[:TAG][@sha256:DIGEST]");
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return bad(text, "a digest must be sha256: followed by 64 lowercase hex digits");
  }
  let tag: string | undefined;
  // A ':' after the last '/' starts the tag; one before it is a registry's port.
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return bad(text, "a tag is 1-128 characters of [A-Za-z0-9_.-], not starting with . or -");
  }
  if (rest === "") return bad(text, "the repository name is empty");
  const { domain, path } = splitDomain(rest);
  if (domain !== undefined && !DOMAIN.test(domain)) return bad(text, `${JSON.stringify(domain)} is not a registry host[:port]`);
  const components = path.split("/");
  for (const c of components) {
    if (c !== c.toLowerCase() && PATH_COMPONENT.test(c.toLowerCase())) return bad(text, "repository name must be lowercase");
    if (!PATH_COMPONENT.test(c)) return bad(text, `${JSON.stringify(c)} is not a repository name component: expected lowercase letters and digits, separated by ., _, __ or -`);
  }
  let d = domain ?? DEFAULT_DOMAIN;
  if (d === LEGACY_DOMAIN) d = DEFAULT_DOMAIN;
  const repo = d === DEFAULT_DOMAIN && components.length === 1 ? `library/${path}` : path;
  if (`${d}/${repo}`.length > MAX_NAME) return bad(text, `the repository name is longer than ${MAX_NAME} characters`);
  const ref: ImageReference = { domain: d, path: repo };
  if (tag !== undefined) ref.tag = tag;
  else if (digest === undefined) ref.tag = "latest";
  if (digest !== undefined) ref.digest = digest;
  return { ok: true, value: ref };
}

/** docker's rule: the first component is a registry when it has a '.' or ':', is localhost, or has uppercase. */
function splitDomain(name: string): { domain?: string; path: string } {
  const slash = name.indexOf("/");
  if (slash < 0) return { path: name };
  const first = name.slice(0, slash);
  if (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first) return { path: name };
  return { domain: first, path: name.slice(slash + 1) };
}

/** "docker.io/library/alpine" */
export const repositoryOf = (r: ImageReference): string => `${r.domain}/${r.path}`;

/** The full normalised form: "docker.io/library/alpine:latest", "127.0.0.1:5000/a/b@sha256:…". */
export function formatReference(r: ImageReference): string {
  return `${repositoryOf(r)}${r.tag !== undefined ? `:${r.tag}` : ""}${r.digest !== undefined ? `@${r.digest}` : ""}`;
}

/** The repository as docker shows it: "alpine", "user/app", "127.0.0.1:5000/t/app". */
export function familiarRepository(r: ImageReference): string {
  if (r.domain !== DEFAULT_DOMAIN) return repositoryOf(r);
  return r.path.startsWith("library/") && r.path.split("/").length === 2 ? r.path.slice("library/".length) : r.path;
}

/** The key the store indexes a tag under ("docker.io/library/alpine:latest"), or the digest form. */
export const refKey = (r: ImageReference): string => formatReference(r.tag !== undefined ? { domain: r.domain, path: r.path, tag: r.tag } : r);

/** "linux/amd64", "linux/arm/v7". */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export function parsePlatform(text: string): Validated<Platform> {
  const parts = text.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    return { ok: false, error: { code: "invalidArgument", message: `invalid platform ${JSON.stringify(text)}: expected os/arch[/variant], e.g. linux/amd64` } };
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return { ok: true, value: variant ? { os, architecture, variant } : { os, architecture } };
}

export const formatPlatform = (p: Platform): string => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;

/** Node's process.arch names → OCI's GOARCH names. */
export function ociArchitecture(nodeArch: string): string {
  const map: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return map[nodeArch] ?? nodeArch;
}
