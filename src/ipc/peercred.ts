// Loads the SO_PEERCRED addon (native/peercred). There is deliberately no fallback: a server
// that cannot ask the kernel who is calling must not start, because the only alternative is
// believing what the client says about itself, and these credentials become the journaled actor.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BerthError } from "../errors.js";
import type { Peer } from "./frame.js";

type Addon = { peercred(fd: number): Peer };

const here = dirname(fileURLToPath(import.meta.url));
const ADDON = "native/peercred/build/Release/peercred.node";
/** src/ipc when run with tsx, dist/src/ipc when compiled. */
export const DEFAULT_ADDON_CANDIDATES = [resolve(here, "../..", ADDON), resolve(here, "../../..", ADDON)];

const loaded = new Map<string, Addon>();

/** Returns a function reading the peer of a connected socket fd, or throws internalError naming the fix. */
export function loadPeercred(addonPath?: string): (fd: number) => Peer {
  const candidates = addonPath ? [addonPath] : DEFAULT_ADDON_CANDIDATES;
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new BerthError(
      "internalError",
      `peer-credential addon not found (looked for ${candidates.join(", ")}); build it with scripts/build-native.sh. ` +
        "The server refuses to start without it rather than trust client-supplied identities",
    );
  }
  let addon = loaded.get(path);
  if (!addon) {
    try {
      addon = createRequire(import.meta.url)(path) as Addon;
    } catch (err) {
      throw new BerthError("internalError", `cannot load peer-credential addon ${path}: ${(err as Error).message}; rebuild it with scripts/build-native.sh`);
    }
    if (typeof addon.peercred !== "function") throw new BerthError("internalError", `${path} does not export peercred(fd)`);
    loaded.set(path, addon);
  }
  return addon.peercred;
}
