// Where the daemon keeps its journal and its socket under the berth root. One place, so the
// daemon, the CLI and the tests agree; it imports only node:path, so the CLI starts fast.
import { join } from "node:path";

export const journalPath = (root: string) => join(root, "journal.db");

/**
 * The socket's own directory, 0700 and owned by the daemon: the root itself may be 0755 (made
 * with `mkdir -p`), and a socket directly in it would be reachable by anyone who can traverse it.
 */
export const socketDir = (root: string) => join(root, "run");
export const socketPath = (root: string) => join(socketDir(root), "berth.sock");
