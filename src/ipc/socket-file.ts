// The socket file's lifecycle: a private directory, a stale file from a crashed server replaced,
// a live server never replaced, and on close only our own file removed.
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, statSync, unlinkSync } from "node:fs";
import { connect } from "node:net";
import { basename, dirname, join } from "node:path";
import { BerthError } from "../errors.js";
import { removeFile } from "../remove-file.js";

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/**
 * Creates the socket's directory with `dirMode` if missing. An existing directory is never
 * chmod-ed (it may be shared, like /tmp): it is refused if it grants more than `dirMode`.
 */
export function prepareDirectory(socketPath: string, dirMode: number): void {
  const dir = dirname(socketPath);
  try {
    mkdirSync(dir, { recursive: true, mode: dirMode });
  } catch (err) {
    throw new BerthError("invalidArgument", `cannot create socket directory ${dir}: ${(err as Error).message}`);
  }
  const st = statSync(dir);
  if (!st.isDirectory()) throw new BerthError("invalidArgument", `${dir} is not a directory; the socket needs a private directory`);
  if ((st.mode & 0o777 & ~dirMode) !== 0) {
    throw new BerthError(
      "invalidArgument",
      `socket directory ${dir} has mode ${octal(st.mode)}, expected at most ${octal(dirMode)}: ` +
        "put the socket in a private directory (berth creates one if the path does not exist)",
    );
  }
}

/** Resolves true if a server accepts connections on the path, false if the file is stale. */
function isLive(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect(socketPath);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", (err: NodeJS.ErrnoException) => {
      probe.destroy();
      if (err.code === "ECONNREFUSED" || err.code === "ENOENT") resolve(false);
      else reject(new BerthError("internalError", `cannot probe socket ${socketPath}: ${err.message}`));
    });
  });
}

/**
 * Clears the way for a new server: nothing there, or a stale socket (connection refused), is
 * fine; a live server is an `exists` error; a non-socket file is never deleted.
 */
export async function claimSocketPath(socketPath: string): Promise<void> {
  let st;
  try {
    st = lstatSync(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  if (!st.isSocket()) {
    throw new BerthError("exists", `${socketPath} exists and is not a socket; refusing to replace it`);
  }
  if (await isLive(socketPath)) {
    throw new BerthError("exists", `a server is already listening on ${socketPath}; stop it before starting another`);
  }
  try {
    unlinkSync(socketPath); // stale: left by a server that died without cleaning up
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/** The identity of the file we bound, so close() never unlinks a successor's socket. */
export function fileIdentity(path: string): string | undefined {
  try {
    const st = lstatSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

export function removeIfOurs(path: string, identity: string | undefined): void {
  if (identity !== undefined && fileIdentity(path) === identity) {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}

/**
 * The server binds to a private temporary name, not to the real path: libuv unlinks the bound
 * name when the server closes, which would delete a successor's socket at the real path. The
 * temporary name also lets us set the mode before anyone can connect.
 */
let bound = 0;

export function temporaryName(socketPath: string): string {
  // pid + a counter is unique among live processes, so no randomness is needed (node:crypto
  // costs every runtime service about 1.5 MB of memory). A leftover of a dead process that had
  // our pid can only be stale: remove it, or the bind would fail.
  const name = join(dirname(socketPath), `.${basename(socketPath).slice(0, 16)}.${process.pid}.${(bound += 1)}`);
  removeFile(name);
  if (Buffer.byteLength(name) > 107 || Buffer.byteLength(socketPath) > 107) {
    throw new BerthError("invalidArgument", `socket path ${socketPath} is too long for a Unix socket (at most about 80 bytes)`);
  }
  return name;
}

/**
 * Publishes the bound socket at its real path with link(), which fails if anything is already
 * there: two servers starting at once cannot both win, and neither replaces the other.
 */
export function publish(tempPath: string, socketPath: string, mode: number, gid?: number): void {
  try {
    if (gid !== undefined) chownSync(tempPath, -1, gid);
    chmodSync(tempPath, mode);
    linkSync(tempPath, socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new BerthError("exists", `${socketPath} was taken by another server while this one was starting`);
    }
    throw err;
  } finally {
    try {
      unlinkSync(tempPath);
    } catch {
      // already gone
    }
  }
}
