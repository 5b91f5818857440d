// Finds and loads one of berth's native addons (native/<name>/build/Release/<name>.node, built by
// scripts/build-native.sh). The lookup is relative to this module, which sits at src/host/ under
// tsx, at dist/src/host/ when compiled, and at dist/bundle/ when bundled: "../..", "../../.." cover all three.
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BerthError } from "../model/errors.js";

const here = dirname(fileURLToPath(import.meta.url));
const loaded = new Map<string, unknown>();

export function addonCandidates(name: string): string[] {
  const file = `native/${name}/build/Release/${name}.node`;
  return [resolve(here, "../..", file), resolve(here, "../../..", file)];
}

export interface AddonUse {
  /** What a person calls it ("peer-credential"). */
  label: string;
  /** What depends on it, said when it is missing. */
  why: string;
}

/**
 * Loads addon `name` from `explicitPath` or its default places, checking that it exports every
 * function in `needs`. Throws internalError naming the fix.
 */
export function loadAddon<T>(name: string, needs: (keyof T & string)[], use: AddonUse, explicitPath?: string): T {
  const candidates = explicitPath ? [explicitPath] : addonCandidates(name);
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new BerthError("internalError", `${use.label} addon not found (looked for ${candidates.join(", ")}); build it with scripts/build-native.sh. ${use.why}`);
  let addon = loaded.get(path) as T | undefined;
  if (!addon) {
    try {
      // process.dlopen is what require() does for a .node file, without loading the module
      // system's `module` builtin (and with it the ESM loader) into every runtime service.
      const module = { exports: {} as T };
      process.dlopen(module, path);
      addon = module.exports;
    } catch (err) {
      throw new BerthError("internalError", `cannot load the ${use.label} addon ${path}: ${(err as Error).message}; rebuild it with scripts/build-native.sh`);
    }
    for (const fn of needs) if (typeof addon[fn] !== "function") throw new BerthError("internalError", `${path} does not export ${fn}()`);
    loaded.set(path, addon);
  }
  return addon;
}
