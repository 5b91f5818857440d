// Temporary directories that tests always remove.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostcalls, mountsUnder } from "../../src/vm/hostcalls.js";

/** Unmounts whatever is left mounted under dir (a container's rootfs overlay, if its service was killed). */
export function unmountUnder(dir: string): void {
  for (const point of mountsUnder(dir)) hostcalls().umount(point);
}

export function tempDir(prefix = "berth-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => {
    unmountUnder(path);
    rmSync(path, { recursive: true, force: true });
  } };
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = tempDir();
  try {
    return await fn(dir.path);
  } finally {
    dir.remove();
  }
}
