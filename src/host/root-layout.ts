// The berth root and where the daemon keeps its journal and its socket under it. One place, so
// the daemon, the CLI and the tests agree; it imports only node:path, so the CLI starts fast.
import { join } from "node:path";

/** /var/lib/berth for root, $XDG_STATE_HOME/berth otherwise; BERTH_ROOT overrides both. */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_ROOT) return env.BERTH_ROOT;
  if (process.getuid?.() === 0) return "/var/lib/berth";
  return join(env.XDG_STATE_HOME ?? join(env.HOME ?? "/tmp", ".local", "state"), "berth");
}

export const journalPath = (root: string) => join(root, "journal.db");

/**
 * The socket's own directory, 0700 and owned by the daemon: the root itself may be 0755 (made
 * with `mkdir -p`), and a socket directly in it would be reachable by anyone who can traverse it.
 */
export const socketDir = (root: string) => join(root, "run");
export const socketPath = (root: string) => join(socketDir(root), "berth.sock");
