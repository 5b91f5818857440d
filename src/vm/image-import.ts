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
import { archiveBlob, readArchiveFiles } from "./image/archive.js";
import { STORE_NAMES } from "./image/store.js";
import { imageRootfs, imagesDir } from "./paths.js";
import { applyLayer, components } from "./layer.js";

const bad = (msg: string) => new BerthError("invalidArgument", msg);

/** The layer tarballs of a docker-save or OCI-layout archive, bottom first: its first image. */
function layersOf(files: Map<string, Buffer>): Buffer[] {
  const get = (name: string) => {
    const b = files.get(components(name).join("/"));
    if (!b) throw bad(`image archive is missing ${name}`);
    return b;
  };
  if (files.has("manifest.json")) {
    const manifest = JSON.parse(get("manifest.json").toString()) as { Layers: string[] }[];
    if (!Array.isArray(manifest) || !manifest[0] || !Array.isArray(manifest[0].Layers)) throw bad("manifest.json has no Layers");
    return manifest[0].Layers.map(get);
  }
  if (files.has("index.json")) {
    const index = JSON.parse(get("index.json").toString()) as { manifests: { digest: string }[] };
    const first = index.manifests?.[0];
    if (!first) throw bad("index.json lists no manifests");
    const manifest = JSON.parse(archiveBlob(files, first.digest).toString()) as { layers: { digest: string }[] };
    return (manifest.layers ?? []).map((l) => archiveBlob(files, l.digest));
  }
  throw bad("not an image archive: expected manifest.json (docker save) or index.json (OCI layout)");
}

export async function importImage(root: string, file: string, name: string): Promise<{ name: string; rootfs: string; layers: number }> {
  const id = validateId(name, "image name");
  if (!id.ok) throw new BerthError(id.error.code, id.error.message);
  if (STORE_NAMES.includes(name)) throw new BerthError("invalidArgument", `image name ${name} is reserved for the image store: expected another name`);
  const files = readArchiveFiles(file);
  const layers = layersOf(files);
  const dest = imageRootfs(root, name);
  if (fs.existsSync(dest)) throw new BerthError("exists", `image ${name} already exists`);
  fs.mkdirSync(imagesDir(root), { recursive: true });
  const tmp = fs.mkdtempSync(join(imagesDir(root), ".import-"));
  try {
    const rootfs = join(tmp, "rootfs");
    fs.mkdirSync(rootfs, { mode: 0o755 });
    for (const layer of layers) await applyLayer(rootfs, layer);
    fs.mkdirSync(dirname(dest), { recursive: true });
    fs.renameSync(rootfs, dest);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { name, rootfs: dest, layers: layers.length };
}
