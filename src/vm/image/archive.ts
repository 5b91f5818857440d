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
import { components } from "../layer.js";
import { readTar, TAR_END, tarFileHeader, tarPadding } from "../tar.js";
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
    add("oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
    const index = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] as Descriptor[] };
    const dockerManifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    for (const r of records) {
      const manifest = store.readBlob(r.manifest);
      const parsed = parseManifest(manifest.toString("utf8"), undefined);
      if (!parsed.ok) throw BerthError.from(parsed.error);
      for (const d of [r.config, ...r.layers]) add(blobName(d), store.readBlob(d));
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

export interface Loaded {
  record: ImageRecord;
  format: "oci-archive" | "docker-archive";
}

/** Loads every image of an archive into the store; nothing is named until all of it verified. */
export async function loadArchive(root: string, file: string): Promise<Loaded[]> {
  const files = readArchiveFiles(file);
  const store = new ImageStore(root);
  const images = files.has("index.json") ? fromOciLayout(files) : files.has("manifest.json") ? fromDockerSave(files) : undefined;
  if (!images) throw new BerthError("invalidArgument", `${file} is not an image archive: expected index.json (OCI layout) or manifest.json (docker save)`);
  if (images.length === 0) throw new BerthError("invalidArgument", `${file} names no image: a loaded image needs a reference (an io.containerd.image.name annotation or RepoTags)`);
  for (const img of images) {
    for (const [digest, bytes] of img.blobs) store.putVerified(digest, bytes);
    await unpack(store, img.record.manifest, img.layers);
  }
  for (const img of images) store.setRef(img.record);
  return images.map((i) => ({ record: i.record, format: files.has("index.json") ? "oci-archive" : "docker-archive" }));
}

/**
 * The regular files of an image archive (a tar: an OCI layout or a docker save), by their
 * normalised names ("./blobs//x" is "blobs/x"; a name with ".." is refused). What `load` and
 * `image import` both read.
 */
export function readArchiveFiles(file: string): Map<string, Buffer> {
  let archive: Buffer;
  try {
    archive = fs.readFileSync(file);
  } catch (err) {
    throw new BerthError("notFound", `cannot read ${file}: ${(err as Error).message}`);
  }
  const files = new Map<string, Buffer>();
  for (const e of readTar(archive)) if (e.type === "file") files.set(components(e.name).join("/"), e.data);
  return files;
}

/** An OCI layout's blob by its digest, verified against it. */
export function archiveBlob(files: Map<string, Buffer>, digest: string): Buffer {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new BerthError("unsupported", `unsupported digest ${JSON.stringify(digest.slice(0, 80))} in the archive: expected sha256:<64 hex>`);
  return verified(files, blobName(digest), digest);
}

interface Staged {
  record: ImageRecord;
  layers: Descriptor[];
  blobs: Map<string, Buffer>;
}

function verified(files: Map<string, Buffer>, name: string, digest?: string): Buffer {
  const bytes = files.get(components(name).join("/"));
  if (!bytes) throw new BerthError("invalidArgument", `the archive is missing ${name}`);
  if (digest !== undefined && sha(bytes) !== digest) throw new BerthError("invalidArgument", `${name} in the archive failed verification: its content has digest ${sha(bytes)}`);
  return bytes;
}

function staged(reference: string, manifestBytes: Buffer, blob: (d: Descriptor) => Buffer, index?: string): Staged {
  const parsed = parseManifest(manifestBytes.toString("utf8"), undefined);
  if (!parsed.ok) throw BerthError.from(parsed.error);
  if (parsed.value.kind !== "image") throw new BerthError("unsupported", "nested indexes are not supported");
  const m = parsed.value;
  const blobs = new Map<string, Buffer>();
  const configBytes = blob(m.config);
  blobs.set(m.config.digest, configBytes);
  for (const l of m.layers) blobs.set(l.digest, blob(l));
  const manifest = sha(manifestBytes);
  blobs.set(manifest, manifestBytes);
  const config = JSON.parse(configBytes.toString("utf8")) as ImageConfig;
  const record = imageRecord(reference, { manifest, ...(index ? { index } : {}) }, m, config);
  return { record, layers: m.layers, blobs };
}

/** A name from the archive, normalised: "alpine:3" → "docker.io/library/alpine:3". */
function referenceOf(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const r = parseReference(name);
  return r.ok ? refKey(r.value) : undefined;
}

function fromOciLayout(files: Map<string, Buffer>): Staged[] {
  const blob = (d: Descriptor) => archiveBlob(files, d.digest);
  const index = JSON.parse(verified(files, "index.json").toString("utf8")) as { manifests?: Descriptor[] };
  const docker = files.has("manifest.json") ? (JSON.parse(files.get("manifest.json")!.toString("utf8")) as { RepoTags?: string[]; Config?: string }[]) : [];
  const out: Staged[] = [];
  for (const d of index.manifests ?? []) {
    const a = d.annotations ?? {};
    // containerd's annotation, else a ref.name that is a whole name (skopeo's oci-archive:F:NAME), not just a tag.
    const refName = a["org.opencontainers.image.ref.name"];
    let reference = referenceOf(a["io.containerd.image.name"]) ?? (refName?.includes("/") ? referenceOf(refName) : undefined);
    let bytes = blob(d);
    let viaIndex: string | undefined;
    if (d.mediaType === MEDIA.ociIndex || d.mediaType === MEDIA.dockerList) {
      const inner = parseManifest(bytes.toString("utf8"), d.mediaType);
      if (!inner.ok || inner.value.kind !== "index") throw new BerthError("invalidArgument", `index ${d.digest} in the archive is not an index`);
      const chosen = selectManifest(inner.value.manifests, hostPlatform());
      if (!chosen.ok) throw BerthError.from(chosen.error);
      viaIndex = d.digest;
      bytes = blob(chosen.value);
    }
    const configName = (() => {
      const m = parseManifest(bytes.toString("utf8"), undefined);
      return m.ok && m.value.kind === "image" ? blobName(m.value.config.digest) : undefined;
    })();
    reference ??= referenceOf(docker.find((x) => x.Config === configName)?.RepoTags?.[0]);
    if (!reference) continue;
    const s = staged(reference, bytes, blob, viaIndex);
    if (viaIndex) s.blobs.set(viaIndex, files.get(blobName(viaIndex))!);
    out.push(s);
  }
  return out;
}

/** A classic `docker save`: uncompressed layers and a config; berth writes the schema 2 manifest. */
function fromDockerSave(files: Map<string, Buffer>): Staged[] {
  const list = JSON.parse(verified(files, "manifest.json").toString("utf8")) as { Config?: string; RepoTags?: string[]; Layers?: string[] }[];
  if (!Array.isArray(list)) throw new BerthError("invalidArgument", "manifest.json is not a list");
  const out: Staged[] = [];
  for (const entry of list) {
    const reference = referenceOf(entry.RepoTags?.[0]);
    if (!reference || !entry.Config || !Array.isArray(entry.Layers)) continue;
    const config = verified(files, entry.Config);
    const layers = entry.Layers.map((l) => verified(files, l));
    const byDigest = new Map<string, Buffer>([[sha(config), config], ...layers.map((l) => [sha(l), l] as [string, Buffer])]);
    const gz = (b: Buffer) => b[0] === 0x1f && b[1] === 0x8b;
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.dockerManifest,
      config: { mediaType: MEDIA.dockerConfig, size: config.length, digest: sha(config) },
      layers: layers.map((l) => ({ mediaType: gz(l) ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : "application/vnd.docker.image.rootfs.diff.tar", size: l.length, digest: sha(l) })),
    }));
    out.push(staged(reference, manifest, (d) => byDigest.get(d.digest)!));
  }
  return out;
}
