// A container's persistent network namespace: an nsfs bind mount under the root, made before
// the CNI ADD and named in the bundle, so it outlives the daemon and even the sandbox until
// berth removes it. Node cannot unshare a thread of its own safely, so util-linux's unshare
// makes it; the addon's lazy umount removes it.
import fs from "node:fs";
import { dirname } from "node:path";
import { BerthError } from "../../model/errors.js";
import { runCommand } from "../host.js";
import { hostcalls, mountsUnder } from "../hostcalls.js";

export async function createNetns(path: string): Promise<void> {
  if (isNetns(path)) return;
  fs.mkdirSync(dirname(path), { recursive: true });
  fs.writeFileSync(path, "");
  const r = await runCommand("unshare", [`--net=${path}`, "true"]);
  if (r.code !== 0) {
    fs.rmSync(path, { force: true });
    throw new BerthError("internalError", `cannot create the network namespace ${path}: ${r.stderr.trim() || `unshare exited ${r.code}`}`);
  }
}

/** A namespace is mounted there (not only the empty file a crash mid-create leaves). */
export function isNetns(path: string): boolean {
  return mountsUnder(path).includes(path);
}

export function removeNetns(path: string): void {
  if (isNetns(path)) hostcalls().umount(path);
  fs.rmSync(path, { force: true });
}
