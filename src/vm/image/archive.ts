// `berth save` and `berth load`: image archives. save writes what docker 25+ writes, an OCI
// image layout that also holds docker's manifest.json, with the store's blobs byte for byte, so
// a load gives back the same digests. load reads either: an OCI layout (index.json, from berth,
// docker 25+ or `skopeo copy … oci-archive:`), or a classic `docker save` (manifest.json with
// uncompressed layers), whose manifest berth writes itself. Every blob is verified on the way.
import { createHash } from "node:crypto";
import fs from "node:fs";
import { BerthError } from "../../model/errors.js";
import { MEDIA, parseManifest, selectManifest, type Descriptor, type ImageConfig } from "../../model/image.js";
import { familiarRepository, parseReference, refKey } from "../../model/reference.js";
import { TAR_END, tarFileHeader, tarPadding } from "../tar.js";
import { ArchiveReader } from "./archive-reader.js";
import { hostPlatform } from "./pull.js";
import { unpack } from "./layers.js";
import { imageRecord, ImageStore, type ImageRecord } from "./store.js";

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const blobName = (digest: string) => `blobs/sha256/${digest.slice("sha256:".length)}`;

/** Writes the images named to `file` (through a temp file renamed into place). */
export function saveArchive(root: string, names: string[], file: string): ImageRecord[] {
  const store = new ImageStore(root);
  const records = names.map((n) => {
    const r = store.lookup(n);
    if (!r) throw new BerthError("notFound", `no such image: ${n}`);
    return r;
  });
  const tmp = `${file}.berth-tmp`;
  const fd = fs.openSync(tmp, "w", 0o644);
  try {
    const written = new Set<string>();
    const add = (name: string, data: Buffer) => {
      if (written.has(name)) return;
      written.add(name);
      fs.writeSync(fd, tarFileHeader(name, data.length));
      fs.writeSync(fd, data);
      fs.writeSync(fd, tarPadding(data.length));
    };
    // A layer is copied through one buffer, not read whole: layers can be gigabytes.
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    const addBlob = (digest: string) => {
      const name = blobName(digest);
      if (written.has(name)) return;
      written.add(name);
      const size = copyBlob(store, digest, fd, buffer, (n) => fs.writeSync(fd, tarFileHeader(name, n)));
      fs.writeSync(fd, tarPadding(size));
    };
    add("oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
    const index = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] as Descriptor[] };
    const dockerManifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    for (const r of records) {
      const manifest = store.readBlob(r.manifest);
      const parsed = parseManifest(manifest.toString("utf8"), undefined);
      if (!parsed.ok) throw BerthError.from(parsed.error);
      for (const d of [r.config, ...r.layers]) addBlob(d);
      add(blobName(r.manifest), manifest);
      const ref = parseReference(r.reference);
      const tag = ref.ok && ref.value.tag !== undefined ? `${familiarRepository(ref.value)}:${ref.value.tag}` : undefined;
      index.manifests.push({ mediaType: parsed.value.mediaType, digest: r.manifest, size: manifest.length, annotations: { "io.containerd.image.name": r.reference, ...(ref.ok && ref.value.tag ? { "org.opencontainers.image.ref.name": ref.value.tag } : {}) } });
      dockerManifest.push({ Config: blobName(r.config), RepoTags: tag ? [tag] : [], Layers: r.layers.map(blobName) });
    }
    add("index.json", Buffer.from(JSON.stringify(index)));
    add("manifest.json", Buffer.from(JSON.stringify(dockerManifest)));
    fs.writeSync(fd, TAR_END);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  return records;
}

/** Copies a store blob into the archive after `header(size)`; returns its size. */
function copyBlob(store: ImageStore, digest: string, out: number, buffer: Buffer, header: (size: number) => void): number {
  let from: number;
  try {
    from = fs.openSync(store.blobPath(digest), "r");
  } catch {
    throw new BerthError("notFound", `blob ${digest} is not in the image store`);
  }
  try {
    const size = fs.fstatSync(from).size;
    header(size);
    for (let done = 0; done < size; ) {
      const n = fs.readSync(from, buffer, 0, Math.min(buffer.length, size - done), done);
      if (n === 0) throw new BerthError("internalError", `blob ${digest} shrank while it was saved`);
      fs.writeSync(out, buffer, 0, n);
      done += n;
    }
    return size;
  } finally {
    fs.closeSync(from);
  }
}

export interface Loaded {
  record: ImageRecord;
  format: "oci-archive" | "docker-archive";
}

/**
 * Loads every image of an archive into the store. Layers stream into the store as they
 * verify; an image's manifest and config go in only after all its layers did, and nothing is
 * named until every image verified and unpacked. What a failed load leaves is verified blobs
 * no image names, which the next `image prune` sweeps, as a failed pull's.
 */
export async function loadArchive(root: string, file: string): Promise<Loaded[]> {
  const archive = ArchiveReader.open(file);
  try {
    const format = archive.has("index.json") ? "oci-archive" : archive.has("manifest.json") ? "docker-archive" : undefined;
    if (!format) throw new BerthError("invalidArgument", `${file} is not an image archive: expected index.json (OCI layout) or manifest.json (docker save)`);
    const store = new ImageStore(root);
    const images = format === "oci-archive" ? await fromOciLayout(archive, store) : await fromDockerSave(archive, store);
    if (images.length === 0) throw new BerthError("invalidArgument", `${file} names no image: a loaded image needs a reference (an io.containerd.image.name annotation or RepoTags)`);
    for (const img of images) {
      for (const [digest, bytes] of img.small) store.putVerified(digest, bytes);
      await unpack(store, img.record.manifest, img.layers);
    }
    for (const img of images) store.setRef(img.record);
    return images.map((i) => ({ record: i.record, format }));
  } finally {
    archive.close();
  }
}

/** An OCI layout's member holding a blob, by its digest (checked to be one). */
export function blobMember(digest: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new BerthError("unsupported", `unsupported digest ${JSON.stringify(digest.slice(0, 80))} in the archive: expected sha256:<64 hex>`);
  return blobName(digest);
}

/** An OCI layout's small blob (an index, a manifest, a config), verified against its digest. */
export function verifiedBlob(archive: ArchiveReader, digest: string): Buffer {
  return verified(archive, blobMember(digest), digest);
}

/** A small member, verified against its digest when one is given. */
function verified(archive: ArchiveReader, name: string, digest?: string): Buffer {
  const bytes = archive.read(name);
  if (digest !== undefined && sha(bytes) !== digest) throw new BerthError("invalidArgument", `${name} in the archive failed verification: its content has digest ${sha(bytes)}`);
  return bytes;
}

/**
 * Streams a layer from the archive into the store's blobs, verified against `expected` when
 * the archive names its digest (an OCI layout), or named by the digest computed on the way
 * (a docker save). A blob the store already has is not copied again.
 */
async function storeLayer(archive: ArchiveReader, store: ImageStore, name: string, expected?: Descriptor): Promise<{ digest: string; size: number }> {
  if (expected && store.hasBlob(expected.digest, expected.size)) return expected;
  const tmp = store.tempBlobPath();
  try {
    const got = await archive.copyTo(name, tmp);
    if (expected && (got.digest !== expected.digest || got.size !== expected.size)) throw new BerthError("invalidArgument", `${name} in the archive failed verification: its content has digest ${got.digest} and ${got.size} bytes`);
    store.commitFile(tmp, got.digest);
    return got;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

interface Staged {
  record: ImageRecord;
  layers: Descriptor[];
  /** The manifest, config (and index) bytes, verified: stored once the layers are. */
  small: Map<string, Buffer>;
}

async function staged(archive: ArchiveReader, store: ImageStore, reference: string, manifestBytes: Buffer, index?: string): Promise<Staged> {
  const parsed = parseManifest(manifestBytes.toString("utf8"), undefined);
  if (!parsed.ok) throw BerthError.from(parsed.error);
  if (parsed.value.kind !== "image") throw new BerthError("unsupported", "nested indexes are not supported");
  const m = parsed.value;
  const configBytes = verifiedBlob(archive, m.config.digest);
  for (const l of m.layers) await storeLayer(archive, store, blobMember(l.digest), l);
  const manifest = sha(manifestBytes);
  const config = JSON.parse(configBytes.toString("utf8")) as ImageConfig;
  const record = imageRecord(reference, { manifest, ...(index ? { index } : {}) }, m, config);
  return { record, layers: m.layers, small: new Map([[m.config.digest, configBytes], [manifest, manifestBytes]]) };
}

/** A name from the archive, normalised: "alpine:3" → "docker.io/library/alpine:3". */
function referenceOf(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const r = parseReference(name);
  return r.ok ? refKey(r.value) : undefined;
}

async function fromOciLayout(archive: ArchiveReader, store: ImageStore): Promise<Staged[]> {
  const blob = (d: Descriptor) => verifiedBlob(archive, d.digest);
  const index = JSON.parse(verified(archive, "index.json").toString("utf8")) as { manifests?: Descriptor[] };
  const docker = archive.has("manifest.json") ? (JSON.parse(archive.read("manifest.json").toString("utf8")) as { RepoTags?: string[]; Config?: string }[]) : [];
  const out: Staged[] = [];
  for (const d of index.manifests ?? []) {
    const a = d.annotations ?? {};
    // containerd's annotation, else a ref.name that is a whole name (skopeo's oci-archive:F:NAME), not just a tag.
    const refName = a["org.opencontainers.image.ref.name"];
    let reference = referenceOf(a["io.containerd.image.name"]) ?? (refName?.includes("/") ? referenceOf(refName) : undefined);
    let bytes = blob(d);
    let viaIndex: Buffer | undefined;
    if (d.mediaType === MEDIA.ociIndex || d.mediaType === MEDIA.dockerList) {
      const inner = parseManifest(bytes.toString("utf8"), d.mediaType);
      if (!inner.ok || inner.value.kind !== "index") throw new BerthError("invalidArgument", `index ${d.digest} in the archive is not an index`);
      const chosen = selectManifest(inner.value.manifests, hostPlatform());
      if (!chosen.ok) throw BerthError.from(chosen.error);
      viaIndex = bytes;
      bytes = blob(chosen.value);
    }
    const configName = (() => {
      const m = parseManifest(bytes.toString("utf8"), undefined);
      return m.ok && m.value.kind === "image" ? blobName(m.value.config.digest) : undefined;
    })();
    reference ??= referenceOf(docker.find((x) => x.Config === configName)?.RepoTags?.[0]);
    if (!reference) continue;
    const s = await staged(archive, store, reference, bytes, viaIndex ? d.digest : undefined);
    if (viaIndex) s.small.set(d.digest, viaIndex);
    out.push(s);
  }
  return out;
}

/** A classic `docker save`: uncompressed layers and a config; berth writes the schema 2 manifest. */
async function fromDockerSave(archive: ArchiveReader, store: ImageStore): Promise<Staged[]> {
  const list = JSON.parse(verified(archive, "manifest.json").toString("utf8")) as { Config?: string; RepoTags?: string[]; Layers?: string[] }[];
  if (!Array.isArray(list)) throw new BerthError("invalidArgument", "manifest.json is not a list");
  const out: Staged[] = [];
  for (const entry of list) {
    const reference = referenceOf(entry.RepoTags?.[0]);
    if (!reference || !entry.Config || !Array.isArray(entry.Layers)) continue;
    const config = verified(archive, entry.Config);
    const layers: Descriptor[] = [];
    for (const name of entry.Layers) {
      const { digest, size } = await storeLayer(archive, store, name);
      const gzip = archive.head(name, 2).equals(GZIP_MAGIC);
      layers.push({ mediaType: gzip ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : "application/vnd.docker.image.rootfs.diff.tar", size, digest });
    }
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.dockerManifest,
      config: { mediaType: MEDIA.dockerConfig, size: config.length, digest: sha(config) },
      layers,
    }));
    const parsed = parseManifest(manifest.toString("utf8"), undefined);
    if (!parsed.ok || parsed.value.kind !== "image") throw new BerthError("internalError", "the manifest written for a docker save does not parse");
    const record = imageRecord(reference, { manifest: sha(manifest) }, parsed.value, JSON.parse(config.toString("utf8")) as ImageConfig);
    out.push({ record, layers, small: new Map([[sha(config), config], [sha(manifest), manifest]]) });
  }
  return out;
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
