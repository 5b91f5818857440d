// berth's own version, read from package.json so `--version`, `version` and `info` never drift
// from it. The nearest package.json above this module: src/host/ in a checkout run through tsx,
// dist/src/host/ after tsc, dist/bundle/ in the esbuild bundle all sit inside the repository.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function berthVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "berth" && pkg.version) return (cached = pkg.version);
    } catch {
      // no package.json here: look one level up
    }
    const up = dirname(dir);
    if (up === dir) return (cached = "unknown");
    dir = up;
  }
}
