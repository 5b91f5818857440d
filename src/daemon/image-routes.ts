// The image routes: `pull` (a stream of progress, then the image), `imageLoad`, `imageTag`,
// `imageRemove` and `imagePrune`. The daemon
// owns the image store's writes, so every change is journaled with the kernel's view of who
// asked. Credentials arrive with a pull request and go to the registry client only: they are
// never journaled, logged or echoed back.
import { readFileSync, statSync } from "node:fs";
import { BerthError } from "../model/errors.js";
import { parsePlatform, parseReference, refKey, type Platform } from "../model/reference.js";
import type { ContainerState } from "../projections/container.js";
import { imagesInUse, type Projection } from "../projections/index.js";
import { IMAGE_STREAM } from "../events/catalogue.js";
import type { Route } from "../ipc/server.js";
import { parseRegistriesConf, type RegistriesConfig } from "../model/registries.js";
import { loadArchive } from "../vm/image/archive.js";
import { pullImage } from "../vm/image/pull.js";
import type { Credentials } from "../vm/image/registry.js";
import { ImageStore, type ImageRecord } from "../vm/image/store.js";
import { bodyOf } from "./schemas.js";
import type { Store } from "./store.js";

export interface ImageDeps {
  root: string;
  store: Store;
  /** `berth daemon --registries-conf FILE`: mirrors tried before each registry. */
  registries?: RegistriesConfig;
}

/** Reads and checks a registries.conf when the daemon starts, so a bad one stops it there. */
export function readRegistriesConf(file: string): RegistriesConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new BerthError("notFound", `cannot read the registries config ${file}: ${(err as Error).message}`);
  }
  const parsed = parseRegistriesConf(text, file);
  if (!parsed.ok) throw BerthError.from(parsed.error);
  return parsed.value;
}

/** Pulls in flight: an image rm sweeps unreferenced blobs only when none could be about to name them. */
let pullsInFlight = 0;

/** Made once, when the daemon starts: so a pull killed with the last daemon is cleaned up first. */
export function imageRoutes(deps: ImageDeps): Record<string, Route> {
  const { root, store, registries } = deps;
  reconcileImages(root, store.projection);
  return {
    pull: {
      kind: "stream",
      handler: async (body, ctx) => {
        const b = bodyOf("pull", body);
        let platform: Platform | undefined;
        if (b.platform !== undefined) {
          const p = parsePlatform(b.platform);
          if (!p.ok) throw BerthError.from(p.error);
          platform = p.value;
        }
        const credentials = b.credentials === undefined ? undefined : credentialsOf(b.credentials);
        pullsInFlight += 1;
        try {
          const result = await pullImage(root, b.reference, {
            ...(platform ? { platform } : {}),
            ...(credentials ? { credentials } : {}),
            ...(registries ? { registries } : {}),
            insecureRegistries: b.insecureRegistries ?? [],
            onProgress: (p) => void ctx.emit({ progress: p }),
          });
          const r = result.record;
          if (result.changed) {
            const data = { reference: r.reference, digest: r.manifest, config: r.config, ...(r.index ? { index: r.index } : {}), platform: r.platform, size: r.size };
            store.appendRaw(IMAGE_STREAM, [{ type: "ImagePulled", data }], "any", { actor: ctx.peer, ...(b.commandId ? { commandId: b.commandId } : {}) });
          }
          await ctx.emit({ pulled: r, changed: result.changed });
        } finally {
          pullsInFlight -= 1;
        }
      },
    },

    imageLoad: {
      kind: "unary",
      deadlineMs: 600_000,
      handler: async (body, ctx) => {
        const b = bodyOf("imageLoad", body);
        refuseUnreadable(b.file, ctx.peer.uid);
        const loaded = await loadArchive(root, b.file);
        const meta = { actor: ctx.peer, ...(b.commandId ? { commandId: b.commandId } : {}) };
        const events = loaded.map(({ record: r, format }) => ({ type: "ImageLoaded" as const, data: { reference: r.reference, digest: r.manifest, config: r.config, platform: r.platform, size: r.size, format } }));
        store.appendRaw(IMAGE_STREAM, events, "any", meta);
        return loaded.map((l) => l.record);
      },
    },

    imageRemove: {
      kind: "unary",
      deadlineMs: 300_000,
      handler: (body, ctx) => {
        const b = bodyOf("imageRemove", body);
        const images = new ImageStore(root);
        const record = images.lookup(b.reference);
        if (!record) throw new BerthError("notFound", `no such image: ${b.reference}`);
        const lastName = Object.values(images.refs()).filter((r) => r.manifest === record.manifest).length === 1;
        if (lastName) refuseInUse(deps, images, record, b.force === true);
        const meta = { actor: ctx.peer, ...(b.commandId ? { commandId: b.commandId } : {}) };
        const { freed } = images.removeRef(record.reference, pullsInFlight === 0, imagesInUse(store.projection, record.reference), (freed) => {
          store.appendRaw(IMAGE_STREAM, [{ type: "ImageRemoved", data: { reference: record.reference, digest: record.manifest, freed } }], "any", meta);
        });
        return { untagged: record.reference, deleted: freed };
      },
    },

    imageTag: {
      kind: "unary",
      handler: (body, ctx) => {
        const b = bodyOf("imageTag", body);
        const images = new ImageStore(root);
        const record = images.lookup(b.source);
        if (!record) throw new BerthError("notFound", `no such image: ${b.source}`);
        const target = parseReference(b.target);
        if (!target.ok) throw BerthError.from(target.error);
        if (target.value.digest !== undefined || target.value.tag === undefined) throw new BerthError("invalidArgument", `cannot tag with a digest: ${b.target}; expected NAME[:TAG]`);
        const reference = refKey(target.value);
        images.setRef({ ...record, reference });
        store.appendRaw(IMAGE_STREAM, [{ type: "ImageTagged", data: { reference, source: record.reference, digest: record.manifest } }], "any", { actor: ctx.peer, ...(b.commandId ? { commandId: b.commandId } : {}) });
        return { reference, source: record.reference };
      },
    },

    imagePrune: {
      kind: "unary",
      deadlineMs: 300_000,
      handler: (body, ctx) => {
        const b = bodyOf("imagePrune", body);
        // Every reference names an image, so nothing is dangling: only -a has anything to do.
        if (!b.all) return { deleted: [], untagged: [] };
        const images = new ImageStore(root);
        const untagged: string[] = [];
        const deleted: string[] = [];
        const meta = { actor: ctx.peer, ...(b.commandId ? { commandId: b.commandId } : {}) };
        for (const record of Object.values(images.refs())) {
          if (usedBy(deps, images, record).length > 0) continue;
          const { freed } = images.removeRef(record.reference, pullsInFlight === 0, imagesInUse(store.projection, record.reference), (freed) => {
            store.appendRaw(IMAGE_STREAM, [{ type: "ImageRemoved", data: { reference: record.reference, digest: record.manifest, freed } }], "any", meta);
          });
          untagged.push(record.reference);
          deleted.push(...freed);
        }
        return { untagged, deleted };
      },
    },
  };
}

/**
 * At start: refs.json made to say what the journal says (a pull or rm killed between its file
 * and its event), then what a killed pull or rm left swept away.
 */
function reconcileImages(root: string, projection: Projection): void {
  const images = new ImageStore(root);
  const { dropped, restored } = images.reconcile(projection.images ?? {});
  for (const r of dropped) console.error(`image ${r}: the journal does not name it (a pull or image rm cut short by the daemon's stop); dropped from refs.json`);
  for (const r of restored) console.error(`image ${r}: the journal names it and refs.json did not; restored`);
  images.removeLeftovers(imagesInUse(projection));
}

/** The containers (not deleted) whose rootfs is this image's manifest. */
function usedBy(deps: ImageDeps, images: ImageStore, record: ImageRecord): ContainerState[] {
  return Object.values(deps.store.projection.containers).filter((c) => {
    const rootfs = c.config.rootfs;
    if (!("image" in rootfs)) return false;
    return rootfs.resolved ? rootfs.resolved.manifest === record.manifest : images.lookup(rootfs.image)?.manifest === record.manifest;
  });
}

/** docker: an image a container uses is kept unless -f; one a running container uses, even with -f. */
function refuseInUse(deps: ImageDeps, images: ImageStore, record: ImageRecord, force: boolean): void {
  for (const c of usedBy(deps, images, record)) {
    const live = c.status !== "stopped" && c.status !== "created";
    if (live) throw new BerthError("invalidState", `cannot remove image ${record.reference}: container ${c.id} is ${c.status} and uses it (stop it first)`);
    if (!force) throw new BerthError("invalidState", `cannot remove image ${record.reference}: container ${c.id} uses it (remove the container, or use -f)`);
  }
}

/** The daemon reads the archive as root: only for a client that owns the file (or is root itself). */
function refuseUnreadable(file: string, uid: number): void {
  if (!file.startsWith("/")) throw new BerthError("invalidArgument", `the archive path must be absolute, got ${JSON.stringify(file)}`);
  let owner: number;
  try {
    owner = statSync(file).uid;
  } catch (err) {
    throw new BerthError("notFound", `cannot read ${file}: ${(err as Error).message}`);
  }
  if (uid !== 0 && owner !== uid) throw new BerthError("invalidArgument", `cannot load ${file}: it belongs to uid ${owner}, not to the caller (uid ${uid})`);
}

function credentialsOf(value: Record<string, unknown>): Credentials {
  if (typeof value.username !== "string" || typeof value.password !== "string") throw new BerthError("invalidArgument", "credentials must be { username, password } strings");
  return { username: value.username, password: value.password };
}
