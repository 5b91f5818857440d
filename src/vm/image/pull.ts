// `berth pull`: resolve a reference to one image manifest (choosing a platform from an index),
// download its config and layers into the store (3 layers at a time, every byte verified while
// it streams), unpack the layers (layers.ts), and only then name it in refs.json.
import { createHash } from "node:crypto";
import fs from "node:fs";
import { join } from "node:path";
import { ChunkCollector } from "../../host/memory.js";
import { BerthError } from "../../model/errors.js";
import { configPlatform, layerCompression, selectManifest, type Descriptor, type ImageConfig } from "../../model/image.js";
import { formatPlatform, ociArchitecture, parseReference, refKey, type ImageReference, type Platform } from "../../model/reference.js";
import { endpointsFor, type Endpoint, type RegistriesConfig } from "../../model/registries.js";
import { imageLowers, unpack } from "./layers.js";
import { RegistryClient, type RegistryOptions } from "./registry.js";
import { imageRecord, ImageStore, type ImageRecord } from "./store.js";

export type PullProgress =
  /** `digests`: the layers, bottom first, so a display can give each its line (absent from older daemons). */
  | { kind: "resolved"; reference: string; digest: string; layers: number; digests?: string[] }
  | { kind: "layer"; digest: string; status: "exists" | "downloading" | "verified"; current: number; total: number }
  /** A layer's unpacking starts (`digest`; older daemons sent one item for all, without it). */
  | { kind: "unpacking"; layers: number; digest?: string }
  /** A mirror failed; the next mirror, or the registry itself, is tried. */
  | { kind: "fallback"; mirror: string; reason: string };

export interface PullOptions extends RegistryOptions {
  platform?: Platform;
  /** Mirrors (the daemon's --registries-conf), tried in order before the registry itself. */
  registries?: RegistriesConfig;
  onProgress?: (p: PullProgress) => void;
}

export interface PullResult {
  record: ImageRecord;
  /** False when the reference already named this manifest, unpacked: docker's "Image is up to date". */
  changed: boolean;
}

const PARALLEL_LAYERS = 3;
const ATTEMPTS = 3;

export const hostPlatform = (): Platform => ({ os: "linux", architecture: ociArchitecture(process.arch) });

export async function pullImage(root: string, text: string, options: PullOptions = {}): Promise<PullResult> {
  const parsed = parseReference(text);
  if (!parsed.ok) throw BerthError.from(parsed.error);
  const ref = parsed.value;
  const endpoints = endpointsFor(options.registries, ref);
  if (!endpoints.ok) throw BerthError.from(endpoints.error);
  const failed: string[] = [];
  for (const endpoint of endpoints.value) {
    try {
      return await pullFrom(root, text, ref, new RegistryClient({ ...ref, domain: endpoint.domain, path: endpoint.path }, endpointOptions(endpoint, ref, options)), options);
    } catch (err) {
      if (!endpoint.mirror) {
        if (failed.length === 0 || !(err instanceof BerthError)) throw err;
        throw new BerthError(err.code, `${err.message} (after the mirrors failed: ${failed.join("; ")})`);
      }
      const reason = err instanceof Error ? err.message : String(err);
      failed.push(`${endpoint.domain}: ${reason}`);
      options.onProgress?.({ kind: "fallback", mirror: endpoint.domain, reason });
    }
  }
  throw new BerthError("internalError", "unreachable: the registry itself is always the last endpoint");
}

/**
 * A mirror is spoken to as the registries config says (plain HTTP when `insecure`, or on
 * loopback), and never sent the credentials: they are the reference's registry's, and go only
 * to that host, whether it is reached as itself or through a `location` on the same host.
 */
function endpointOptions(endpoint: Endpoint, ref: ImageReference, options: PullOptions): RegistryOptions {
  return {
    ...(options.credentials && endpoint.domain === ref.domain ? { credentials: options.credentials } : {}),
    insecureRegistries: [...(options.insecureRegistries ?? []), ...(endpoint.insecure ? [endpoint.domain] : [])],
  };
}

async function pullFrom(root: string, text: string, ref: ImageReference, client: RegistryClient, options: PullOptions): Promise<PullResult> {
  const store = new ImageStore(root);
  const want = options.platform ?? hostPlatform();

  let top = await client.manifest(ref.digest ?? ref.tag!);
  let index: string | undefined;
  if (top.manifest.kind === "index") {
    const chosen = selectManifest(top.manifest.manifests, want);
    if (!chosen.ok) throw BerthError.from(chosen.error);
    index = top.digest;
    store.putVerified(top.digest, top.bytes);
    top = await client.manifest(chosen.value.digest);
    if (top.manifest.kind !== "image") throw new BerthError("unsupported", `the index of ${text} points at another index: nested indexes are not supported`);
  }
  const manifest = top.manifest;
  if (manifest.kind !== "image") throw new BerthError("internalError", "unreachable: an index after platform selection");
  for (const layer of manifest.layers) {
    const c = layerCompression(layer.mediaType);
    if (!c.ok) throw BerthError.from(c.error);
  }
  const reference = refKey(ref);
  options.onProgress?.({ kind: "resolved", reference, digest: top.digest, layers: manifest.layers.length, digests: manifest.layers.map((l) => l.digest) });
  const existing = store.refs()[reference];
  if (existing && existing.manifest === top.digest && imageLowers(store, top.digest, manifest.layers.map((l) => l.digest))) return { record: existing, changed: false };

  const configBytes = store.hasBlob(manifest.config.digest, manifest.config.size) ? store.readBlob(manifest.config.digest) : await client.smallBlob(manifest.config.digest, manifest.config.size);
  const config = JSON.parse(configBytes.toString("utf8")) as ImageConfig;
  if (options.platform && (config.architecture !== want.architecture || (config.os ?? "linux") !== want.os)) {
    throw new BerthError("notFound", `${text} is for ${formatPlatform(configPlatform(config))}, not the ${formatPlatform(want)} asked for`);
  }
  store.putVerified(manifest.config.digest, configBytes);
  store.putVerified(top.digest, top.bytes);
  // Each layer unpacks as soon as it and the layers below it are here, while the ones above
  // still download.
  const lane = lanes(PARALLEL_LAYERS);
  const downloaded = manifest.layers.map((layer) => lane(() => fetchBlob(store, client, layer, options.onProgress)));
  for (const d of downloaded) d.catch(() => {}); // each is awaited below; a failure is not unhandled meanwhile
  try {
    await unpack(store, top.digest, manifest.layers, async (i) => {
      await downloaded[i];
      options.onProgress?.({ kind: "unpacking", layers: manifest.layers.length, digest: manifest.layers[i]!.digest });
    });
  } finally {
    await Promise.allSettled(downloaded); // no download outlives the pull
  }

  const record = imageRecord(reference, { manifest: top.digest, ...(index ? { index } : {}) }, manifest, config);
  store.setRef(record);
  return { record, changed: true };
}

/** Runs `work` over items with at most `limit` in flight; the first failure fails the whole. */
export async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const lane = lanes(limit);
  await Promise.all(items.map((item) => lane(() => work(item))));
}

/** A queue that runs at most `limit` tasks at once, in the order they were given. */
function lanes(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= limit) await new Promise<void>((go) => waiting.push(go));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/**
 * Downloads one blob into ingest/, hashing it as it streams, and renames it into blobs/ only
 * when its size and digest are right. A broken connection is retried from where it stopped
 * (Range), the bytes already there hashed first; a wrong digest throws the download away.
 */
async function fetchBlob(store: ImageStore, client: RegistryClient, desc: Descriptor, onProgress?: PullOptions["onProgress"]): Promise<void> {
  const progress = (status: "exists" | "downloading" | "verified", current: number) => onProgress?.({ kind: "layer", digest: desc.digest, status, current, total: desc.size });
  if (store.hasBlob(desc.digest, desc.size)) return progress("exists", desc.size);
  const ingest = store.ingestPath(desc.digest);
  fs.mkdirSync(join(ingest, ".."), { recursive: true });
  // A progress item per 5% (at least 256 kB), not per chunk: the CLI shows a bar, not a log.
  const step = Math.max(desc.size / 20, 256 * 1024);
  let shown = -step;
  const onBytes = (n: number) => {
    if (n - shown < step) return;
    shown = n;
    progress("downloading", n);
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await downloadOnce(client, desc, ingest, onBytes);
      break;
    } catch (err) {
      const retriable = err instanceof BerthError ? err.message.includes("truncated") : true;
      if (!retriable || attempt >= ATTEMPTS) throw err instanceof BerthError ? err : new BerthError("internalError", `downloading ${desc.digest}: ${(err as Error).message}`);
    }
  }
  store.commitIngest(desc.digest);
  progress("verified", desc.size);
}

async function downloadOnce(client: RegistryClient, desc: Descriptor, ingest: string, onBytes: (n: number) => void): Promise<void> {
  let offset = 0;
  try {
    offset = fs.statSync(ingest).size;
  } catch {
    // Nothing downloaded yet.
  }
  if (offset >= desc.size) offset = 0;
  const hash = createHash("sha256");
  if (offset > 0) for await (const chunk of fs.createReadStream(ingest, { end: offset - 1 })) hash.update(chunk as Buffer);
  const res = await client.blob(desc.digest, offset);
  if (offset > 0 && res.status !== 206) {
    // The registry ignored Range: start again from the first byte.
    return streamInto(res, desc, ingest, 0, createHash("sha256"), onBytes);
  }
  return streamInto(res, desc, ingest, offset, hash, onBytes);
}

async function streamInto(res: Response, desc: Descriptor, ingest: string, offset: number, hash: ReturnType<typeof createHash>, onBytes: (n: number) => void): Promise<void> {
  const file = await fs.promises.open(ingest, offset > 0 ? "a" : "w");
  const collector = new ChunkCollector();
  let total = offset;
  try {
    for await (const chunk of res.body ?? []) {
      total += chunk.length;
      if (total > desc.size) throw mismatch(desc, `more than its ${desc.size} bytes`);
      hash.update(chunk);
      await file.write(chunk);
      onBytes(total);
      collector.done(chunk.length);
    }
    await file.sync();
  } catch (err) {
    if (err instanceof BerthError) {
      await fs.promises.rm(ingest, { force: true });
      throw err;
    }
    // A broken connection: what arrived stays in ingest/ for the retry's Range.
    throw new BerthError("internalError", `blob ${desc.digest} truncated at ${total} of ${desc.size} bytes: ${(err as Error).message}`);
  } finally {
    await file.close();
  }
  if (total < desc.size) throw new BerthError("internalError", `blob ${desc.digest} truncated at ${total} of ${desc.size} bytes`);
  const got = `sha256:${hash.digest("hex")}`;
  if (got !== desc.digest) {
    await fs.promises.rm(ingest, { force: true });
    throw mismatch(desc, `content with digest ${got}`);
  }
}

const mismatch = (desc: Descriptor, got: string) => new BerthError("invalidArgument", `blob ${desc.digest} failed verification: the registry sent ${got}; nothing was stored`);
