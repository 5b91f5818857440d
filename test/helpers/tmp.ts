// Temporary directories that tests always remove.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unmountUnder } from "../../src/vm/hostcalls.js";

export function tempDir(prefix = "berth-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => {
    // A container's rootfs overlay is left mounted if its service was killed.
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
