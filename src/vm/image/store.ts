// The content-addressed image store under <root>/images/:
//   blobs/sha256/<hex>   verified blobs (manifests, configs, layers); only complete ones appear
//   ingest/<hex>         a download in progress, kept so a retried pull resumes with Range
//   layers/<chain hex>   one layer's own changes, shared by every image built on it (layers.ts)
//   unpacked/<hex>       an image flattened, where overlayfs cannot be mounted
//   refs.json            "docker.io/library/alpine:latest" → the manifest it names
// Every file appears by rename, so a crash leaves either the old state or the new one.
import fs from "node:fs";
import { join } from "node:path";
import { BerthError } from "../../model/errors.js";
import { configPlatform, type ImageConfig } from "../../model/image.js";
import { formatPlatform, parseReference, refKey } from "../../model/reference.js";
import { unmountUnder } from "../hostcalls.js";
import type { ImageRef } from "../../projections/images.js";
import { imagesDir } from "../paths.js";
import { imageLowers, liveChains, manifestLayers } from "./layers.js";

/** Names under images/ that the store owns; `image import` may not use them. */
export const STORE_NAMES = ["blobs", "ingest", "layers", "unpacked", "refs.json"];

export interface ImageRecord {
  /** The normalised reference: "docker.io/library/alpine:latest", or "repo@sha256:…" pulled by digest. */
  reference: string;
  /** The image manifest (the platform's, when pulled through an index). */
  manifest: string;
  config: string;
  /** The index or manifest list the tag named, when there was one. */
  index?: string;
  layers: string[];
  platform: string;
  /** Compressed bytes: config and layers, as docker's SIZE before unpacking. */
  size: number;
  /** The config's `created`, if it has one. */
  created?: string;
}

/** The store's record of an image: what its manifest and config say, under `reference`. */
export function imageRecord(reference: string, digests: { manifest: string; index?: string }, manifest: { config: { digest: string; size: number }; layers: { digest: string; size: number }[] }, config: ImageConfig): ImageRecord {
  return {
    reference,
    manifest: digests.manifest,
    config: manifest.config.digest,
    ...(digests.index ? { index: digests.index } : {}),
    layers: manifest.layers.map((l) => l.digest),
    platform: formatPlatform(configPlatform(config)),
    size: manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0),
    ...(config.created ? { created: config.created } : {}),
  };
}

const hexOf = (digest: string) => {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new BerthError("invalidArgument", `invalid digest ${JSON.stringify(digest.slice(0, 80))}: expected sha256:<64 hex>`);
  return m[1]!;
};

/** Numbers this process's temp blob files apart. */
let tempBlobs = 0;

export class ImageStore {
  readonly dir: string;
  constructor(root: string) {
    this.dir = imagesDir(root);
  }

  blobPath(digest: string): string {
    return join(this.dir, "blobs", "sha256", hexOf(digest));
  }

  ingestPath(digest: string): string {
    return join(this.dir, "ingest", hexOf(digest));
  }

  get layersDir(): string {
    return join(this.dir, "layers");
  }

  /** A layer's directory, by its chain id (layers.ts). */
  layerPath(chain: string): string {
    return join(this.layersDir, chain);
  }

  unpackedPath(manifest: string): string {
    return join(this.dir, "unpacked", hexOf(manifest));
  }

  hasBlob(digest: string, size?: number): boolean {
    try {
      const st = fs.statSync(this.blobPath(digest));
      return size === undefined || st.size === size;
    } catch {
      return false;
    }
  }

  readBlob(digest: string): Buffer {
    try {
      return fs.readFileSync(this.blobPath(digest));
    } catch {
      throw new BerthError("notFound", `blob ${digest} is not in the image store`);
    }
  }

  /** Puts bytes already verified against `digest` into place (manifests and configs). */
  putVerified(digest: string, bytes: Buffer): void {
    if (this.hasBlob(digest, bytes.length)) return;
    const path = this.blobPath(digest);
    fs.mkdirSync(join(path, ".."), { recursive: true });
    const tmp = `${this.ingestPath(digest)}.small`;
    fs.mkdirSync(join(tmp, ".."), { recursive: true });
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, path);
  }

  /** Moves a verified download from ingest/ into blobs/. */
  commitIngest(digest: string): void {
    this.commitFile(this.ingestPath(digest), digest);
  }

  /** Where a blob whose digest is not known yet is written (a load's layer); removeLeftovers sweeps what a kill -9 left. */
  tempBlobPath(): string {
    fs.mkdirSync(this.dir, { recursive: true });
    return join(this.dir, `.blob-${process.pid}-${++tempBlobs}`);
  }

  /** Moves a file whose content has `digest` into blobs/. */
  commitFile(file: string, digest: string): void {
    const path = this.blobPath(digest);
    fs.mkdirSync(join(path, ".."), { recursive: true });
    fs.renameSync(file, path);
  }

  /**
   * What a pull, a load or an image rm killed mid-way (kill -9) left: half-unpacked trees, an
   * unrenamed refs file, a load's half-copied blob, trees no reference names. Run once when the daemon starts, before any pull;
   * ingest/ stays, for the next pull's Range.
   */
  removeLeftovers(inUse: readonly ImageRef[] = []): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    for (const n of names) if (n.startsWith(".unpack-") || n.startsWith(".refs.json.") || n.startsWith(".blob-")) fs.rmSync(join(this.dir, n), { recursive: true, force: true });
    // A layer being built is applied through an overlay mounted below it: unmount, then remove.
    for (const n of entries(this.layersDir)) {
      if (!n.startsWith(".build-")) continue;
      unmountUnder(join(this.layersDir, n));
      fs.rmSync(join(this.layersDir, n), { recursive: true, force: true });
    }
    // An image rm killed after it dropped the reference, before its sweep: no tree stays behind
    // that no reference names. Blobs stay, for a pull that resumes; the next rm or prune sweeps them.
    this.removeTrees(this.live(this.refs(), inUse));
  }

  refs(): Record<string, ImageRecord> {
    try {
      return JSON.parse(fs.readFileSync(join(this.dir, "refs.json"), "utf8")) as Record<string, ImageRecord>;
    } catch {
      return {};
    }
  }

  private writeRefs(refs: Record<string, ImageRecord>): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const tmp = join(this.dir, `.refs.json.${process.pid}`);
    fs.writeFileSync(tmp, `${JSON.stringify(refs, null, 1)}\n`);
    fs.renameSync(tmp, join(this.dir, "refs.json"));
  }

  setRef(record: ImageRecord): void {
    this.writeRefs({ ...this.refs(), [record.reference]: record });
  }

  /**
   * The record a user's name means: an exact key, the normalised reference, or a manifest
   * digest (or its unique prefix, as `docker image rm 1a2b` takes). Undefined when none.
   */
  lookup(name: string): ImageRecord | undefined {
    const refs = this.refs();
    if (refs[name]) return refs[name];
    const parsed = parseReference(name);
    if (parsed.ok) {
      const key = refKey(parsed.value);
      if (refs[key] && (parsed.value.digest === undefined || refs[key]!.manifest === parsed.value.digest)) return refs[key];
      if (parsed.value.digest) {
        const byDigest = Object.values(refs).find((r) => r.manifest === parsed.value.digest || r.index === parsed.value.digest);
        if (byDigest) return byDigest;
      }
    }
    const hex = name.replace(/^sha256:/, "");
    if (/^[a-f0-9]{6,64}$/.test(hex)) {
      const hits = [...new Set(Object.values(refs).filter((r) => hexOf(r.config).startsWith(hex) || hexOf(r.manifest).startsWith(hex)).map((r) => r.manifest))];
      if (hits.length === 1) return Object.values(refs).find((r) => r.manifest === hits[0]);
    }
    return undefined;
  }

  config(record: ImageRecord): ImageConfig {
    return JSON.parse(this.readBlob(record.config).toString("utf8")) as ImageConfig;
  }

  /**
   * Removes a reference, and with `sweep` every blob, layer and unpacked tree that neither a
   * remaining reference nor a container (`inUse`, from the projection) needs. `journal` is
   * called with the blobs to be freed before anything is touched, so the journal says it first:
   * a crash after it leaves a reference the journal no longer names, which the next start's
   * reconcile drops, and files nothing names, which its sweep frees.
   */
  removeRef(reference: string, sweep: boolean, inUse: readonly ImageRef[], journal: (freed: string[]) => void): { freed: string[] } {
    const refs = this.refs();
    delete refs[reference];
    const live = sweep ? this.live(refs, inUse) : undefined;
    const blobs = join(this.dir, "blobs", "sha256");
    const freed = live ? entries(blobs).filter((n) => !live.blobs.has(n) && !n.startsWith(".")).map((hex) => `sha256:${hex}`) : [];
    journal(freed);
    this.writeRefs(refs);
    if (live) {
      this.removeTrees(live);
      removeAllBut(blobs, live.blobs);
    }
    return { freed };
  }

  /**
   * Makes refs.json say what the journal says (`journaled`, the projection's references): a
   * reference the journal does not name (a pull killed after it wrote refs.json, before its
   * event) is dropped; one the journal names that refs.json lacks (killed between the event and
   * the file) is written back, when its blobs and layers are all here. Run at start, before the
   * leftovers' sweep. Returns what changed, for the daemon's log.
   */
  reconcile(journaled: Record<string, ImageRef>): { dropped: string[]; restored: string[] } {
    const refs = this.refs();
    const dropped = Object.keys(refs).filter((reference) => journaled[reference] === undefined);
    for (const reference of dropped) delete refs[reference];
    const restored: string[] = [];
    for (const [reference, image] of Object.entries(journaled)) {
      if (refs[reference]) continue;
      const record = this.recordFromBlobs(reference, image);
      if (!record) continue;
      refs[reference] = record;
      restored.push(reference);
    }
    if (dropped.length > 0 || restored.length > 0) this.writeRefs(refs);
    return { dropped, restored };
  }

  /** The record of an image whose manifest, config and layers are all in the store, or undefined. */
  private recordFromBlobs(reference: string, image: ImageRef): ImageRecord | undefined {
    try {
      const m = JSON.parse(this.readBlob(image.manifest).toString("utf8")) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
      if (image.config !== undefined && m.config.digest !== image.config) return undefined;
      const layers = m.layers.map((l) => l.digest);
      if (!layers.every((d) => this.hasBlob(d)) || !imageLowers(this, image.manifest, layers)) return undefined;
      const config = JSON.parse(this.readBlob(m.config.digest).toString("utf8")) as ImageConfig;
      return imageRecord(reference, { manifest: image.manifest, ...(image.index ? { index: image.index } : {}) }, m, config);
    } catch {
      return undefined;
    }
  }

  /** Removes the layer directories and flattened trees that nothing live needs. */
  private removeTrees(live: { blobs: Set<string>; chains: Set<string> }): void {
    removeAllBut(join(this.dir, "unpacked"), live.blobs);
    removeAllBut(this.layersDir, live.chains);
  }

  /** The blobs (hex) and layer chains the references and the containers' images need. */
  private live(refs: Record<string, ImageRecord>, inUse: readonly ImageRef[]): { blobs: Set<string>; chains: Set<string> } {
    const images = [...Object.values(refs), ...inUse.map((u) => ({ ...u, layers: manifestLayers(this, u.manifest) ?? [] }))];
    const blobs = new Set<string>();
    for (const r of images) for (const d of [r.manifest, r.config, r.index, ...r.layers]) if (d) blobs.add(hexOf(d));
    return { blobs, chains: liveChains(images.map((r) => r.layers)) };
  }
}

function entries(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Removes every entry of `dir` but the kept names and those being built (".…"); returns the removed names. */
function removeAllBut(dir: string, keep: ReadonlySet<string>): string[] {
  const removed = entries(dir).filter((n) => !keep.has(n) && !n.startsWith("."));
  for (const n of removed) fs.rmSync(join(dir, n), { recursive: true, force: true });
  return removed;
}
