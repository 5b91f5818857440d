// `berth load -i FILE`: the daemon loads an image archive (an OCI layout, as `berth save`,
// docker 25+ and `skopeo copy … oci-archive:` write, or a classic `docker save`) into the store,
// and journals ImageLoaded for each image.
import { resolve } from "node:path";
import { BerthError } from "../../model/errors.js";
import type { ImageRecord } from "../../vm/image/store.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "load",
  description: "load images from a tar archive (OCI layout or docker save)",
  examples: ["berth load -i app.tar", "berth load -i alpine-docker-save.tar"],
  flags: (cmd) => cmd.option("-i, --input <file>", "the archive to read"),
  action: async (s, o) => {
    if (!o.input) throw new BerthError("invalidArgument", "load needs -i FILE");
    const loaded = await (await s.ipc()).call<ImageRecord[]>("imageLoad", { file: resolve(o.input as string) });
    for (const r of loaded) out(`Loaded image: ${r.reference}`);
    return 0;
  },
};
