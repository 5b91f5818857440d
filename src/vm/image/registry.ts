// A registry client for the OCI distribution spec v2, over Node's own fetch: pulls, and the
// uploads of a push (monolithic: POST, then PUT with the digest). It answers the
// `WWW-Authenticate` challenge (Bearer tokens, as Docker Hub does it, or Basic), follows blob
// redirects itself so credentials never go to another host, and speaks plain HTTP only to
// loopback or to a registry the user named as insecure, as docker does.
import { createHash } from "node:crypto";
import { BerthError } from "../../model/errors.js";
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, parseManifest, type Manifest } from "../../model/image.js";
import { DEFAULT_DOMAIN, type ImageReference } from "../../model/reference.js";

export interface Credentials {
  username: string;
  password: string;
}

export interface RegistryOptions {
  credentials?: Credentials;
  /** Hosts ("host:port" or "host") that may be spoken to over plain HTTP. */
  insecureRegistries?: string[];
}

const MAX_REDIRECTS = 5;

interface RequestOptions {
  method?: "GET" | "HEAD" | "POST" | "PUT";
  accept?: string;
  range?: string;
  /** Made anew for each attempt: a 401's retry sends the body again. */
  body?: () => AsyncIterable<Uint8Array> | Buffer;
  contentType?: string;
  contentLength?: number;
}

/** Loopback speaks plain HTTP, as docker's default insecure registries 127.0.0.0/8 and localhost. */
export function isLoopbackHost(hostPort: string): boolean {
  const host = hostPort.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export class RegistryClient {
  private authorization: string | undefined;
  readonly base: string;
  private readonly host: string;

  constructor(readonly ref: ImageReference, private readonly options: RegistryOptions = {}) {
    this.host = ref.domain === DEFAULT_DOMAIN ? "registry-1.docker.io" : ref.domain;
    const insecure = isLoopbackHost(this.host) || (options.insecureRegistries ?? []).some((h) => h === this.host || h === this.host.replace(/:\d+$/, ""));
    this.base = `${insecure ? "http" : "https"}://${this.host}`;
  }

  /** `GET /v2/`, through the challenge: resolves when the credentials (or none) are accepted (`berth login`). */
  async ping(): Promise<void> {
    const res = await this.get("/v2/", {});
    await res.body?.cancel();
  }

  /** A manifest by tag or digest: its bytes (size-limited), digest and parsed form. */
  async manifest(tagOrDigest: string): Promise<{ bytes: Buffer; digest: string; manifest: Manifest; mediaType: string }> {
    const res = await this.get(`/v2/${this.ref.path}/manifests/${tagOrDigest}`, { accept: MANIFEST_ACCEPT });
    const bytes = await readLimited(res, MAX_MANIFEST_BYTES, `the manifest of ${this.ref.path}:${tagOrDigest}`);
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (tagOrDigest.startsWith("sha256:") && digest !== tagOrDigest) {
      throw new BerthError("invalidArgument", `manifest ${tagOrDigest} from ${this.host} failed verification: its content has digest ${digest}`);
    }
    const mediaType = res.headers.get("content-type") ?? "";
    const parsed = parseManifest(bytes.toString("utf8"), mediaType);
    if (!parsed.ok) throw BerthError.from(parsed.error);
    return { bytes, digest, manifest: parsed.value, mediaType: parsed.value.mediaType };
  }

  /** A blob's response, from `offset` on when the registry honours Range (status 206). */
  async blob(digest: string, offset = 0): Promise<Response> {
    return this.get(`/v2/${this.ref.path}/blobs/${digest}`, offset > 0 ? { range: `bytes=${offset}-` } : {});
  }

  /** A small blob (a config), read whole and verified. */
  async smallBlob(digest: string, size: number): Promise<Buffer> {
    if (size > MAX_MANIFEST_BYTES) throw new BerthError("invalidArgument", `blob ${digest} is ${size} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit for configs`);
    const bytes = await readLimited(await this.blob(digest), MAX_MANIFEST_BYTES, `blob ${digest}`);
    const got = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (got !== digest || bytes.length !== size) throw new BerthError("invalidArgument", `blob ${digest} from ${this.host} failed verification: got ${bytes.length} bytes with digest ${got}, expected ${size} bytes`);
    return bytes;
  }

  private async get(path: string, opts: RequestOptions): Promise<Response> {
    const res = await this.request(path, opts);
    if (res.ok) return res;
    const detail = await registryError(res);
    if (res.status === 404) throw new BerthError("notFound", `${this.ref.domain}/${this.ref.path}: ${detail || "not found"} (${path.split("?")[0]!.split("/").slice(-2).join(" ")})`);
    throw new BerthError(res.status === 416 ? "invalidArgument" : "internalError", `${this.host} answered ${res.status} for ${opts.method ?? "GET"} ${path.split("?")[0]}${detail ? `: ${detail}` : ""}`);
  }

  /** One request through the challenge: a 401 is answered once, a second is `unauthorized`. Other statuses are the caller's. */
  private async request(path: string, opts: RequestOptions): Promise<Response> {
    const url = () => new URL(path, this.base);
    let res = await this.send(url(), opts);
    if (res.status === 401) {
      await res.body?.cancel();
      await this.answerChallenge(res.headers.get("www-authenticate") ?? "");
      res = await this.send(url(), opts);
      if (res.status === 401) {
        await res.body?.cancel();
        throw new BerthError("invalidArgument", `unauthorized: ${this.host} refused ${this.options.credentials ? `the credentials of ${this.options.credentials.username}` : `an anonymous ${this.actions === "pull" ? "pull" : "push"}`}${this.ref.path ? ` for ${this.ref.path}` : ""}${this.options.credentials ? "" : ` (berth login ${this.ref.domain})`}`);
      }
    }
    return res;
  }

  /** Pushes ask the token service for push as well as pull. */
  private actions: "pull" | "pull,push" = "pull";

  forPush(): this {
    this.actions = "pull,push";
    return this;
  }

  /** Whether the registry has the blob already (HEAD), so a push skips it. */
  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request(`/v2/${this.ref.path}/blobs/${digest}`, { method: "HEAD" });
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw new BerthError("internalError", `${this.host} answered ${res.status} for HEAD of blob ${digest}`);
  }

  /** A monolithic upload (POST, then PUT with the digest): the registry verifies the digest itself. */
  async uploadBlob(digest: string, size: number, body: () => AsyncIterable<Uint8Array> | Buffer): Promise<void> {
    const started = await this.request(`/v2/${this.ref.path}/blobs/uploads/`, { method: "POST", body: () => Buffer.alloc(0) });
    await started.body?.cancel();
    const location = started.headers.get("location");
    if (started.status !== 202 || !location) throw new BerthError("internalError", `${this.host} answered ${started.status} to starting an upload of ${digest}${location ? "" : ", with no Location"}`);
    const put = new URL(location, this.base);
    put.searchParams.set("digest", digest);
    const res = await this.request(put.pathname + put.search, { method: "PUT", body, contentType: "application/octet-stream", contentLength: size });
    if (res.status !== 201) throw new BerthError(res.status === 400 ? "invalidArgument" : "internalError", `${this.host} refused blob ${digest}: ${res.status}${await registryError(res).then((d) => (d ? ` ${d}` : ""))}`);
    await res.body?.cancel();
  }

  /** PUT of a manifest under a tag; its bytes go as they are, so its digest is kept. Returns the registry's digest. */
  async putManifest(tag: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.request(`/v2/${this.ref.path}/manifests/${tag}`, { method: "PUT", body: () => bytes, contentType: mediaType, contentLength: bytes.length });
    if (res.status !== 201) throw new BerthError(res.status === 400 ? "invalidArgument" : "internalError", `${this.host} refused the manifest for ${this.ref.path}:${tag}: ${res.status}${await registryError(res).then((d) => (d ? ` ${d}` : ""))}`);
    await res.body?.cancel();
    return res.headers.get("docker-content-digest") ?? `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  }

  /** One request, following redirects by hand: the Authorization header stays with this registry's origin. */
  private async send(url: URL, opts: RequestOptions): Promise<Response> {
    const origin = new URL(this.base).origin;
    const method = opts.method ?? "GET";
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = {};
      if (opts.accept) headers.accept = opts.accept;
      if (opts.range) headers.range = opts.range;
      if (opts.contentType) headers["content-type"] = opts.contentType;
      if (opts.contentLength !== undefined) headers["content-length"] = String(opts.contentLength);
      if (this.authorization && url.origin === origin) headers.authorization = this.authorization;
      let res: Response;
      try {
        const body = opts.body?.();
        res = await fetch(url, { method, headers, redirect: "manual", ...(body ? { body: body as BodyInit, duplex: "half" } : {}) } as RequestInit);
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new BerthError("notFound", `cannot reach registry ${url.host}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
      }
      const location = res.headers.get("location");
      // An upload's 202 and 201 carry a Location that is not a redirect; only GET and HEAD follow one.
      if (res.status < 300 || res.status >= 400 || !location || (method !== "GET" && method !== "HEAD")) return res;
      await res.body?.cancel();
      url = new URL(location, url);
      if (url.protocol !== "https:" && url.protocol !== "http:") throw new BerthError("unsupported", `${this.host} redirected to ${url.protocol} URL`);
    }
    throw new BerthError("internalError", `${this.host} redirected more than ${MAX_REDIRECTS} times`);
  }

  /** Turns a 401's challenge into an Authorization header: a Bearer token fetched from the realm, or Basic. */
  private async answerChallenge(header: string): Promise<void> {
    const creds = this.options.credentials;
    const basic = creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}` : undefined;
    const scheme = header.split(" ")[0]?.toLowerCase();
    if (scheme === "basic") {
      if (!basic) throw new BerthError("invalidArgument", `unauthorized: ${this.host} needs credentials${this.ref.path ? ` for ${this.ref.path}` : ""} (berth login ${this.ref.domain})`);
      this.authorization = basic;
      return;
    }
    if (scheme !== "bearer") throw new BerthError("unsupported", `${this.host} asked for authentication berth does not speak: ${JSON.stringify(header.slice(0, 100))}`);
    const params = challengeParams(header.slice(header.indexOf(" ") + 1));
    if (!params.realm) throw new BerthError("invalidArgument", `${this.host}'s Bearer challenge names no realm`);
    const realm = new URL(params.realm);
    if (params.service) realm.searchParams.set("service", params.service);
    // A login asks for a token with no scope, as docker does.
    const scope = params.scope ?? (this.ref.path ? `repository:${this.ref.path}:${this.actions}` : undefined);
    if (scope) realm.searchParams.set("scope", scope);
    let res: Response;
    try {
      res = await fetch(realm, { headers: basic ? { authorization: basic } : {} });
    } catch (err) {
      throw new BerthError("notFound", `cannot reach the token service ${realm.host}: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new BerthError("invalidArgument", `unauthorized: the token service ${realm.host} refused ${creds ? `the credentials of ${creds.username}` : "an anonymous token"} for ${this.ref.path}`);
    }
    if (!res.ok) throw new BerthError("internalError", `the token service ${realm.host} answered ${res.status}`);
    const body = JSON.parse((await readLimited(res, 1024 * 1024, "a token")).toString("utf8")) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new BerthError("internalError", `the token service ${realm.host} sent no token`);
    this.authorization = `Bearer ${token}`;
  }
}

/** `realm="https://auth",service="registry",scope="repository:a:pull"` → a map. */
export function challengeParams(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([a-zA-Z]+)="([^"]*)"/g)) out[m[1]!.toLowerCase()] = m[2]!;
  return out;
}

/** A response body, refused once it passes `limit` bytes (a manifest or config bomb). */
async function readLimited(res: Response, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await res.body?.cancel();
    throw new BerthError("invalidArgument", `${what} is ${declared} bytes, over the ${limit}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {
    total += chunk.length;
    if (total > limit) throw new BerthError("invalidArgument", `${what} is over the ${limit}-byte limit`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** The registry's own error text ({"errors":[{"code","message"}]}), if it sent one. */
async function registryError(res: Response): Promise<string> {
  try {
    const body = (await readLimited(res, 64 * 1024, "an error")).toString("utf8");
    const json = JSON.parse(body) as { errors?: { code?: string; message?: string }[] };
    return (json.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
  } catch {
    return "";
  }
}
