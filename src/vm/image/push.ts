// `berth push`: an image of the store to a registry under its own name, as docker pushes: each
// layer and the config the registry lacks (checked with HEAD) is uploaded, 3 at a time, then the
// manifest under the tag, byte for byte, so the registry names the same digest berth has. The
// registry verifies every digest itself. The credentials are the same as a pull's.
import fs from "node:fs";
import { BerthError } from "../../model/errors.js";
import { parseManifest } from "../../model/image.js";
import { parseReference, refKey } from "../../model/reference.js";
import { inParallel } from "./pull.js";
import { RegistryClient, type RegistryOptions } from "./registry.js";
import { ImageStore, type ImageRecord } from "./store.js";

export type PushProgress = { kind: "blob"; digest: string; status: "exists" | "pushing" | "pushed"; size: number };

export interface PushOptions extends RegistryOptions {
  onProgress?: (p: PushProgress) => void;
}

const PARALLEL_BLOBS = 3;

export async function pushImage(root: string, name: string, options: PushOptions = {}): Promise<{ record: ImageRecord; digest: string; size: number }> {
  const parsed = parseReference(name);
  if (!parsed.ok) throw BerthError.from(parsed.error);
  const ref = parsed.value;
  if (ref.tag === undefined || ref.digest !== undefined) throw new BerthError("invalidArgument", `cannot push ${name}: a push names a tag (NAME[:TAG]); give the image such a name first with berth image tag`);
  const store = new ImageStore(root);
  const record = store.lookup(name);
  if (!record || record.reference !== refKey(ref)) throw new BerthError("notFound", `no such image: ${name} (a push sends an image under its own name: berth image tag IMAGE ${name} first)`);
  const manifest = store.readBlob(record.manifest);
  const m = parseManifest(manifest.toString("utf8"), undefined);
  if (!m.ok) throw BerthError.from(m.error);
  if (m.value.kind !== "image") throw new BerthError("internalError", `${record.manifest} is not an image manifest`);
  const client = new RegistryClient(ref, options).forPush();
  const blobs = [...m.value.layers, m.value.config];
  for (const b of blobs) if (!store.hasBlob(b.digest, b.size)) throw new BerthError("notFound", `blob ${b.digest} of ${name} is not in the image store`);
  await inParallel(blobs, PARALLEL_BLOBS, async (b) => {
    const progress = (status: PushProgress["status"]) => options.onProgress?.({ kind: "blob", digest: b.digest, status, size: b.size });
    if (await client.hasBlob(b.digest)) return progress("exists");
    progress("pushing");
    await client.uploadBlob(b.digest, b.size, () => fs.createReadStream(store.blobPath(b.digest)));
    progress("pushed");
  });
  const digest = await client.putManifest(ref.tag, manifest, m.value.mediaType);
  if (digest !== record.manifest) throw new BerthError("internalError", `${ref.domain} stored the manifest of ${name} as ${digest}, not ${record.manifest}`);
  return { record, digest, size: manifest.length };
}
