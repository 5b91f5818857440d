// `berth image import FILE --name NAME`: unpacks a `docker save` tarball or an OCI image-layout
// tarball into <root>/images/NAME/rootfs. Layers are applied in order with whiteouts honoured.
// Safety is checked here, per entry: no ".." components, no writing through a symlink (an
// absolute symlink followed during extraction would land on the host), hardlinks only to files
// already inside the tree. The image is built in a temp directory and renamed into place, so a
// rejected tarball leaves nothing behind.
import fs from "node:fs";
import { dirname, join } from "node:path";
import { validateId } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import { blobMember, verifiedBlob } from "./image/archive.js";
import { ArchiveReader } from "./image/archive-reader.js";
import { STORE_NAMES } from "./image/store.js";
import { imageRootfs, imagesDir } from "./paths.js";
import { applyLayer } from "./layer.js";

const bad = (msg: string) => new BerthError("invalidArgument", msg);

/** The members holding the layers of a docker-save or OCI-layout archive, bottom first, with their digests when it names them: its first image. */
function layersOf(archive: ArchiveReader): { name: string; digest?: string }[] {
  if (archive.has("manifest.json")) {
    const manifest = JSON.parse(archive.read("manifest.json").toString()) as { Layers: string[] }[];
    if (!Array.isArray(manifest) || !manifest[0] || !Array.isArray(manifest[0].Layers)) throw bad("manifest.json has no Layers");
    return manifest[0].Layers.map((name) => ({ name }));
  }
  if (archive.has("index.json")) {
    const index = JSON.parse(archive.read("index.json").toString()) as { manifests: { digest: string }[] };
    const first = index.manifests?.[0];
    if (!first) throw bad("index.json lists no manifests");
    const manifest = JSON.parse(verifiedBlob(archive, first.digest).toString()) as { layers: { digest: string }[] };
    return (manifest.layers ?? []).map((l) => ({ name: blobMember(l.digest), digest: l.digest }));
  }
  throw bad("not an image archive: expected manifest.json (docker save) or index.json (OCI layout)");
}

export async function importImage(root: string, file: string, name: string): Promise<{ name: string; rootfs: string; layers: number }> {
  const id = validateId(name, "image name");
  if (!id.ok) throw new BerthError(id.error.code, id.error.message);
  if (STORE_NAMES.includes(name)) throw new BerthError("invalidArgument", `image name ${name} is reserved for the image store: expected another name`);
  const archive = ArchiveReader.open(file);
  const dest = imageRootfs(root, name);
  let tmp: string | undefined;
  try {
    const layers = layersOf(archive);
    if (fs.existsSync(dest)) throw new BerthError("exists", `image ${name} already exists`);
    fs.mkdirSync(imagesDir(root), { recursive: true });
    tmp = fs.mkdtempSync(join(imagesDir(root), ".import-"));
    const rootfs = join(tmp, "rootfs");
    fs.mkdirSync(rootfs, { mode: 0o755 });
    // Each layer is copied out of the archive (verified when the archive names its digest), then applied.
    const layerFile = join(tmp, "layer");
    for (const layer of layers) {
      const { digest } = await archive.copyTo(layer.name, layerFile);
      if (layer.digest !== undefined && digest !== layer.digest) throw bad(`${layer.name} in the archive failed verification: its content has digest ${digest}`);
      await applyLayer(rootfs, layerFile);
      fs.rmSync(layerFile);
    }
    fs.mkdirSync(dirname(dest), { recursive: true });
    fs.renameSync(rootfs, dest);
    return { name, rootfs: dest, layers: layers.length };
  } finally {
    archive.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}
