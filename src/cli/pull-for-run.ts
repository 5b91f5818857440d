// `run` and `create`'s `--pull`, apart from pull-image.ts so that `berth pull` does not load the
// image store (and with it crypto, zlib and the tar code) only to send a request.
import { existsSync } from "node:fs";
import { BerthError } from "../model/errors.js";
import { parseReference } from "../model/reference.js";
import { ImageStore } from "../vm/image/store.js";
import { imageRootfs } from "../vm/paths.js";
import type { Session } from "./context.js";
import { pull } from "./pull-image.js";

/**
 * `run` and `create`'s `--pull`: `missing` (the default) pulls an image the store does not have,
 * `always` pulls (re-resolving the tag) every time, `never` leaves it to the create to fail.
 * The progress goes to stderr, as docker's, so the container's output stays apart.
 */
export async function pullForRun(session: Session, image: string, policy: string | undefined): Promise<void> {
  const p = policy ?? "missing";
  if (p !== "missing" && p !== "always" && p !== "never") throw new BerthError("invalidArgument", `invalid --pull "${p}": expected missing, always or never`);
  if (p === "never" || !parseReference(image).ok) return;
  if (p === "missing") {
    if (new ImageStore(session.root).lookup(image)) return;
    if (image === "busybox" || image === "busybox:latest" || existsSync(imageRootfs(session.root, image))) return;
    process.stderr.write(`Unable to find image '${image}' locally\n`);
  }
  await pull(session, { insecureRegistry: [] }, image, (line) => process.stderr.write(`${line}\n`));
}
