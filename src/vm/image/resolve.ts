// What `create` makes of an image name before the config is validated and journaled: a pulled
// image's config is merged under the user's flags (docker's rules, src/model/image.ts) and the
// exact manifest and config digests are recorded, so the journal says which bits ran even after
// the tag moves. Built-in busybox, imported images and --rootfs keep today's default: `sh`.
import type { ContainerConfigInput } from "../../model/config.js";
import { BerthError } from "../../model/errors.js";
import { mergeImageConfig } from "../../model/image.js";
import { hostPlatform } from "./pull.js";
import { ImageStore } from "./store.js";
import { formatPlatform } from "../../model/reference.js";

/** The shell the built-in image (and a host rootfs) runs when no command is given, as docker's busybox. */
const DEFAULT_ARGS = ["sh"];

export function resolveCreateConfig(root: string, raw: unknown): unknown {
  if (!raw || typeof raw !== "object") return raw; // validateConfig names the problem
  const input = raw as ContainerConfigInput & { entrypoint?: unknown };
  // `resolved`, `volumes` and `healthcheck` are the daemon's to write, from its own store: never taken from a client.
  const { entrypoint, volumes: _volumes, healthcheck: _healthcheck, ...rest } = input;
  if (rest.rootfs && "image" in rest.rootfs && rest.rootfs.resolved !== undefined) rest.rootfs = { image: rest.rootfs.image };
  if (entrypoint !== undefined && typeof entrypoint !== "string") throw new BerthError("invalidArgument", "config.entrypoint must be a string");
  const args = Array.isArray(rest.init?.args) ? rest.init.args : undefined;
  const image = rest.rootfs && "image" in rest.rootfs && typeof rest.rootfs.image === "string" ? rest.rootfs.image : undefined;
  const record = image !== undefined ? new ImageStore(root).lookup(image) : undefined;
  if (!record) {
    if (entrypoint !== undefined) {
      const cmd = args ?? [];
      return { ...rest, init: { ...rest.init, args: entrypoint === "" ? cmd : [entrypoint, ...cmd] } };
    }
    return args && args.length === 0 ? { ...rest, init: { ...rest.init, args: DEFAULT_ARGS } } : rest;
  }
  const host = formatPlatform(hostPlatform());
  if (record.platform !== host) throw new BerthError("unsupported", `image ${image} is for ${record.platform}, and this host runs ${host}`);
  const merged = mergeImageConfig({ ...rest, init: { ...rest.init, args: args ?? [] } }, entrypoint !== undefined ? { entrypoint } : {}, new ImageStore(root).config(record));
  if (!merged.ok) throw BerthError.from(merged.error);
  return { ...merged.value, rootfs: { image: image!, resolved: { reference: record.reference, manifest: record.manifest, config: record.config } } };
}
