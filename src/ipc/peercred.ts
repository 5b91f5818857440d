// Loads the SO_PEERCRED addon (native/peercred). There is deliberately no fallback: a server
// that cannot ask the kernel who is calling must not start, because the only alternative is
// believing what the client says about itself, and these credentials become the journaled actor.
import { loadAddon } from "../host/native-addon.js";
import type { Peer } from "./frame.js";

type Addon = { peercred(fd: number): Peer };

/** Returns a function reading the peer of a connected socket fd, or throws internalError naming the fix. */
export function loadPeercred(addonPath?: string): (fd: number) => Peer {
  const why = "The server refuses to start without it rather than trust client-supplied identities";
  return loadAddon<Addon>("peercred", ["peercred"], { label: "peer-credential", why }, addonPath).peercred;
}
