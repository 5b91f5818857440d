// How many bytes a directory tree holds (`ps -s`, `system df`): the apparent size of its
// regular files and symlinks, as docker's SIZE counts a container's writable layer. Entries
// that vanish or cannot be read while walking are skipped: a size is an estimate, never a failure.
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

export function diskUsage(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0; // gone, or not ours to read
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += diskUsage(path);
    else {
      try {
        total += lstatSync(path).size;
      } catch {
        // removed meanwhile
      }
    }
  }
  return total;
}
