// A container's persistent network namespace: an nsfs bind mount under the root, made before
// the CNI ADD and named in the bundle, so it outlives the daemon and even the sandbox until
// berth removes it. Node cannot unshare a thread of its own safely, so util-linux's unshare
// makes it (and brings its loopback up); the addon's lazy umount removes it.
import fs from "node:fs";
import { dirname } from "node:path";
import { BerthError } from "../../model/errors.js";
import { runCommand } from "../host.js";
import { hostcalls, mountsUnder } from "../hostcalls.js";

export async function createNetns(path: string): Promise<void> {
  if (isNetns(path)) return;
  fs.mkdirSync(dirname(path), { recursive: true });
  fs.writeFileSync(path, "");
  // The new namespace's loopback is down, and runc leaves a namespace it joins by path as it
  // is: bring it up in the same process, or 127.0.0.1 answers nothing in the container.
  const r = await runCommand("unshare", [`--net=${path}`, "ip", "link", "set", "lo", "up"]);
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
