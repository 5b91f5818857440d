// Removes one file if it is there. fs.rmSync(path, { force: true }) does the same, but on Node 20
// it loads the recursive remover (internal/fs/rimraf) even for one file, which the runtime
// service, one per container, would otherwise carry for its whole life.
import { unlinkSync } from "node:fs";

export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
