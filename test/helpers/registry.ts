// A real registry for the image tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1
// at a free port, with its storage in a temp directory, fed by images the tests build with
// umoci from a busybox-static tree and push with skopeo. Nothing leaves the machine.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { tempDir } from "./tmp.js";

export interface Registry {
  host: string;
  storage: string;
  /** The registry's own file holding a blob (to tamper with). */
  blobFile(digest: string): string;
  stop(): Promise<void>;
}

/** An htpasswd line for user:password, bcrypt as distribution requires. */
export function htpasswdLine(user: string, password: string): string {
  return execFileSync("htpasswd", ["-Bbn", user, password], { encoding: "utf8" });
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RegistryOptions {
  /** The htpasswd file's content (htpasswd -Bbn): the registry then asks for basic auth. */
  htpasswd?: string;
  /** distribution's `auth: token` section: the registry then asks for Bearer tokens. */
  token?: { realm: string; service: string; issuer: string; rootcertbundle: string };
  /** Serve another registry's storage directory (which that registry removes). */
  storage?: string;
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const dir = tempDir("berth-registry-");
  const port = await freePort();
  const storage = opts.storage ?? join(dir.path, "storage");
  const config = join(dir.path, "config.yml");
  let auth = "";
  if (opts.htpasswd !== undefined) {
    fs.writeFileSync(join(dir.path, "htpasswd"), opts.htpasswd);
    auth = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(dir.path, "htpasswd")}\n`;
  }
  if (opts.token) {
    const t = opts.token;
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.rootcertbundle}\n`;
  }
  fs.writeFileSync(config, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\n${auth}http:\n  addr: 127.0.0.1:${port}\n`);
  const child: ChildProcess = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.ok || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (i > 200 || child.exitCode !== null) {
      child.kill("SIGKILL");
      dir.remove();
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host,
    storage,
    blobFile: (digest) => {
      const hex = digest.replace("sha256:", "");
      return join(storage, "docker", "registry", "v2", "blobs", "sha256", hex.slice(0, 2), hex, "data");
    },
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
      dir.remove();
    },
  };
}

/** A small rootfs: static busybox, its applets as links, /etc/passwd with an `app` user (1000). */
/** `extra` files (path → text) make a layer of its own; `name` is the tree's directory under `dir`. */
export function busyboxTree(dir: string, extra: Record<string, string> = {}, name = "tree"): string {
  const root = join(dir, name);
  for (const d of ["bin", "etc", "srv", "tmp", "proc", "dev", "sys"]) fs.mkdirSync(join(root, d), { recursive: true });
  fs.copyFileSync("/bin/busybox", join(root, "bin", "busybox"));
  fs.chmodSync(join(root, "bin", "busybox"), 0o755);
  for (const a of ["sh", "echo", "env", "pwd", "id", "cat", "ls"]) fs.symlinkSync("busybox", join(root, "bin", a));
  fs.writeFileSync(join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/srv:/bin/sh\n");
  fs.writeFileSync(join(root, "etc", "group"), "root:x:0:\napp:x:1000:\n");
  for (const [name, text] of Object.entries(extra)) fs.writeFileSync(join(root, name), text);
  return root;
}

export interface ImageSpec {
  cmd?: string[];
  entrypoint?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  stopSignal?: string;
  architecture?: string;
  /** ExposedPorts keys ("80/tcp") and Volumes paths. */
  exposed?: string[];
  volumes?: string[];
}

/** `umoci new` + `insert` + `config`: an image tagged `tag` in the OCI layout `layout`. Returns its manifest digest. */
export function buildImage(layout: string, tag: string, tree: string, spec: ImageSpec = {}): string {
  if (!fs.existsSync(join(layout, "index.json"))) execFileSync("umoci", ["init", "--layout", layout]);
  const image = `${layout}:${tag}`;
  execFileSync("umoci", ["new", "--image", image]);
  execFileSync("umoci", ["insert", "--image", image, tree, "/"]);
  const args = ["config", "--image", image];
  for (const c of spec.cmd ?? []) args.push("--config.cmd", c);
  for (const e of spec.entrypoint ?? []) args.push("--config.entrypoint", e);
  for (const e of spec.env ?? []) args.push("--config.env", e);
  if (spec.workdir) args.push("--config.workingdir", spec.workdir);
  if (spec.user) args.push("--config.user", spec.user);
  if (spec.stopSignal) args.push("--config.stopsignal", spec.stopSignal);
  if (spec.architecture) args.push("--architecture", spec.architecture);
  for (const p of spec.exposed ?? []) args.push("--config.exposedports", p);
  for (const v of spec.volumes ?? []) args.push("--config.volume", v);
  execFileSync("umoci", args);
  return manifestOf(layout, tag).digest;
}

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string };
}

function manifestOf(layout: string, tag: string): Desc {
  const index = JSON.parse(fs.readFileSync(join(layout, "index.json"), "utf8")) as { manifests: Desc[] };
  const d = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag);
  if (!d) throw new Error(`no tag ${tag} in ${layout}`);
  return d;
}

/** Writes an OCI index over the tagged manifests, each with its platform, and tags it `tag`. Returns its digest. */
export function writeIndex(layout: string, tag: string, platforms: Record<string, string>): string {
  const manifests = Object.entries(platforms).map(([t, platform]) => {
    const { mediaType, digest, size } = manifestOf(layout, t);
    const [os, architecture] = platform.split("/") as [string, string];
    return { mediaType, digest, size, platform: { os, architecture } };
  });
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests }));
  const hex = createHash("sha256").update(bytes).digest("hex");
  fs.writeFileSync(join(layout, "blobs", "sha256", hex), bytes);
  const indexPath = join(layout, "index.json");
  const top = JSON.parse(fs.readFileSync(indexPath, "utf8")) as { manifests: Desc[] };
  top.manifests.push({ mediaType: "application/vnd.oci.image.index.v1+json", digest: `sha256:${hex}`, size: bytes.length, annotations: { "org.opencontainers.image.ref.name": tag } });
  fs.writeFileSync(indexPath, JSON.stringify(top));
  return `sha256:${hex}`;
}

/** `skopeo copy` of a tag in the layout to the registry; `all` copies an index with every image in it. */
export function push(layout: string, tag: string, dest: string, opts: { all?: boolean; format?: "oci" | "v2s2"; creds?: string } = {}): void {
  const args = ["copy", "--quiet", "--dest-tls-verify=false", ...(opts.creds ? ["--dest-creds", opts.creds] : []), ...(opts.all ? ["--all"] : []), ...(opts.format ? ["--format", opts.format] : []), `oci:${layout}:${tag}`, `docker://${dest}`];
  execFileSync("skopeo", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** The layer digests of a tagged image in the layout. */
export function layersOf(layout: string, tag: string): string[] {
  const { digest } = manifestOf(layout, tag);
  const m = JSON.parse(fs.readFileSync(join(layout, "blobs", "sha256", digest.slice(7)), "utf8")) as { layers: Desc[] };
  return m.layers.map((l) => l.digest);
}

export interface Seen {
  url: string;
  authorization?: string;
  range?: string;
}

export interface ProxyOptions {
  /** The Authorization header every request must carry (else 401 with a Basic challenge). */
  requireAuth?: string;
  /** Answer blob GETs with 307 to this origin. */
  redirectBlobsTo?: string;
  /** Cut the first blob response after this many bytes. */
  cutFirstBlobAt?: number;
  /** Send this many bytes of the first blob response, then hold it open (`stalled` resolves). */
  stallFirstBlobAt?: number;
}

/** An HTTP server on loopback that logs each request and relays it to the registry. */
export async function proxy(upstream: string, opts: ProxyOptions = {}): Promise<{ origin: string; seen: Seen[]; stalled: Promise<void>; close(): Promise<void> }> {
  const seen: Seen[] = [];
  let cut = opts.cutFirstBlobAt !== undefined;
  let stall = opts.stallFirstBlobAt !== undefined;
  let onStall: () => void = () => {};
  const stalled = new Promise<void>((resolve) => (onStall = resolve));
  const server = http.createServer(async (req, res) => {
    seen.push({ url: req.url!, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), ...(req.headers.range ? { range: req.headers.range } : {}) });
    if (opts.requireAuth && req.headers.authorization !== opts.requireAuth) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="test"', "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
      return;
    }
    const isBlob = req.url!.includes("/blobs/");
    if (isBlob && opts.redirectBlobsTo) {
      res.writeHead(307, { location: `${opts.redirectBlobsTo}${req.url}` });
      res.end();
      return;
    }
    const headers: Record<string, string> = {};
    for (const h of ["accept", "range"]) if (req.headers[h]) headers[h] = String(req.headers[h]);
    const up = await fetch(`${upstream}${req.url}`, { headers });
    const out: Record<string, string> = {};
    for (const h of ["content-type", "content-length", "content-range", "docker-content-digest"]) {
      const v = up.headers.get(h);
      if (v) out[h] = v;
    }
    const body = Buffer.from(await up.arrayBuffer());
    res.writeHead(up.status, out);
    if (isBlob && cut && body.length > opts.cutFirstBlobAt!) {
      cut = false;
      res.write(body.subarray(0, opts.cutFirstBlobAt));
      res.once("drain", () => res.destroy());
      setImmediate(() => res.destroy());
      return;
    }
    if (isBlob && stall && body.length > opts.stallFirstBlobAt!) {
      stall = false;
      res.write(body.subarray(0, opts.stallFirstBlobAt), () => onStall());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stalled,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
