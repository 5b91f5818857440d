// Unpacked layers, shared between images: `images/layers/<chain hex>/` holds one layer's own
// changes in overlayfs's form (deleted paths as whiteout devices, opaque directories by
// xattr), so two images that share a base share its directories on disk, as podman's and
// containerd's overlay stores do. A container's rootfs is an overlay of its image's layer
// directories. A layer is applied through an overlay of the layers below it, so the kernel
// writes the whiteouts and symlinks below resolve as in the image (src/vm/layer.ts).
//
// Where overlayfs cannot be mounted, the image is flattened into `unpacked/<manifest hex>` as
// before, and that one tree is its containers' lower layer.
import { createHash } from "node:crypto";
import fs from "node:fs";
import { basename, dirname, join } from "node:path";
import { BerthError } from "../../model/errors.js";
import type { Descriptor } from "../../model/image.js";
import { hostcalls, unmountUnder } from "../hostcalls.js";
import { applyLayer } from "../layer.js";
import type { ImageStore } from "./store.js";

/**
 * The chain id of each layer, bottom first: `sha256(parent chain + " " + layer digest)`, the
 * OCI ChainID's rule over the verified blob digests (the diff ids in a config are not checked
 * against the content, so a directory named by them could be claimed by a lying image).
 */
export function chainIds(layerDigests: readonly string[]): string[] {
  const chains: string[] = [];
  for (const digest of layerDigests) {
    const parent = chains[chains.length - 1];
    chains.push(parent === undefined ? createHash("sha256").update(digest).digest("hex") : createHash("sha256").update(`sha256:${parent} ${digest}`).digest("hex"));
  }
  return chains;
}

/** Overlay lower layers: names inside `base`, top first. */
export interface Lowers {
  base: string;
  names: string[];
}

/** The layers (top first) of an image in the store, or its flattened tree; undefined when it is not unpacked. */
export function imageLowers(store: ImageStore, manifest: string, layerDigests?: readonly string[]): Lowers | undefined {
  const digests = layerDigests ?? manifestLayers(store, manifest);
  const chains = digests ? chainIds(digests) : [];
  if (chains.length > 0 && chains.every((c) => fs.existsSync(store.layerPath(c)))) return { base: store.layersDir, names: chains.reverse() };
  const flat = store.unpackedPath(manifest);
  return fs.existsSync(flat) ? { base: dirname(flat), names: [basename(flat)] } : undefined;
}

/** The layer digests an image manifest in the store names; undefined when it is not there. */
export function manifestLayers(store: ImageStore, manifest: string): string[] | undefined {
  try {
    const m = JSON.parse(store.readBlob(manifest).toString("utf8")) as { layers?: { digest: string }[] };
    return m.layers?.map((l) => l.digest);
  } catch {
    return undefined;
  }
}

/** The chain ids every reference needs: what a sweep keeps. */
export function liveChains(layerLists: Iterable<readonly string[]>): Set<string> {
  const live = new Set<string>();
  for (const layers of layerLists) for (const c of chainIds(layers)) live.add(c);
  return live;
}

/** The mount's options are one page: 40 lower layers of 64-hex names fit, 64 of them do not. */
const MAX_OPTIONS = 4000;

/**
 * Mounts an overlay of `lowers` at target, with an upper layer (read-write) or without one
 * (read-only). The lower layers are given relative to their base, the process's working
 * directory for this one synchronous call, so that their paths need not fit in the page.
 */
export function mountOverlay(target: string, lowers: Lowers, upper?: { upper: string; work: string }): void {
  const options = [`lowerdir=${lowers.names.join(":")}`, ...(upper ? [`upperdir=${upper.upper}`, `workdir=${upper.work}`] : [])].join(",");
  if (options.length > MAX_OPTIONS) throw new BerthError("unsupported", `an overlay of ${lowers.names.length} layers does not fit in the mount's options (${options.length} bytes of at most ${MAX_OPTIONS})`);
  let cwd = "/";
  try {
    cwd = process.cwd();
  } catch {
    // The daemon's directory was removed; "/" is as good a place to come back to.
  }
  process.chdir(lowers.base);
  try {
    hostcalls().mount("overlay", target, "overlay", options);
  } finally {
    process.chdir(cwd);
  }
}

/** Overlayfs was not there to apply a layer through: the image is flattened instead. */
class OverlayUnavailable extends Error {}

/**
 * Unpacks an image's layers into the store: each missing layer directory is built aside and
 * renamed into place, bottom first; layers already there (another image's base) are kept.
 * `ready(i)` resolves when layer i's blob is in the store (a pull downloads while it unpacks).
 */
export async function unpack(store: ImageStore, manifest: string, layers: Descriptor[], ready: (i: number) => Promise<void> = async () => {}): Promise<void> {
  if (imageLowers(store, manifest, layers.map((l) => l.digest))) return;
  const chains = chainIds(layers.map((l) => l.digest));
  let arrived = 0;
  /** Waits for layer i's blob once (a flattening after a failed mount does not wait again). */
  const blobOf = async (i: number) => {
    for (; arrived <= i; arrived++) await ready(arrived);
    if (!store.hasBlob(layers[i]!.digest)) throw new BerthError("notFound", `layer ${layers[i]!.digest} is not in the image store`);
  };
  try {
    for (let i = 0; i < layers.length; i++) {
      await blobOf(i);
      await buildLayer(store, chains, i, layers[i]!);
    }
  } catch (err) {
    if (!(err instanceof OverlayUnavailable)) throw err;
    console.error(`overlayfs unavailable for the image store (${err.message}); flattening ${manifest}`);
    for (let i = 0; i < layers.length; i++) await blobOf(i);
    await flatten(store, manifest, layers);
  }
}

async function buildLayer(store: ImageStore, chains: string[], i: number, layer: Descriptor): Promise<void> {
  const dest = store.layerPath(chains[i]!);
  if (fs.existsSync(dest)) return;
  fs.mkdirSync(store.layersDir, { recursive: true });
  const tmp = fs.mkdtempSync(join(store.layersDir, ".build-"));
  try {
    const diff = join(tmp, "diff");
    fs.mkdirSync(diff, { mode: 0o755 });
    if (i === 0) await apply(store, diff, layer);
    else await applyThroughOverlay(store, tmp, diff, { base: store.layersDir, names: chains.slice(0, i).reverse() }, layer);
    try {
      fs.renameSync(diff, dest);
    } catch (err) {
      // A concurrent pull of an image with the same base finished it first.
      if (!fs.existsSync(dest)) throw err;
    }
  } finally {
    unmountUnder(tmp);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function applyThroughOverlay(store: ImageStore, tmp: string, diff: string, lowers: Lowers, layer: Descriptor): Promise<void> {
  const merged = join(tmp, "merged");
  const work = join(tmp, "work");
  for (const d of [merged, work]) fs.mkdirSync(d);
  try {
    mountOverlay(merged, lowers, { upper: diff, work });
  } catch (err) {
    throw new OverlayUnavailable((err as Error).message);
  }
  try {
    await apply(store, merged, layer);
  } finally {
    unmountUnder(merged);
  }
}

function apply(store: ImageStore, target: string, layer: Descriptor): Promise<void> {
  return applyLayer(target, store.blobPath(layer.digest)).catch((err: unknown) => {
    throw err instanceof BerthError ? new BerthError(err.code, `layer ${layer.digest}: ${err.message}`) : err;
  });
}

/** The fallback: every layer applied, bottom first, into `unpacked/<manifest>`, built aside and renamed into place. */
async function flatten(store: ImageStore, manifest: string, layers: Descriptor[]): Promise<void> {
  const target = store.unpackedPath(manifest);
  fs.mkdirSync(dirname(target), { recursive: true });
  const tmp = fs.mkdtempSync(join(store.dir, ".unpack-"));
  try {
    const rootfs = join(tmp, "rootfs");
    fs.mkdirSync(rootfs, { mode: 0o755 });
    for (const layer of layers) await apply(store, rootfs, layer);
    fs.renameSync(rootfs, target);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
