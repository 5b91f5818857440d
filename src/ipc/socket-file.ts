// The socket file's lifecycle: a private directory, a stale file from a crashed server replaced,
// a live server never replaced, and on close only our own file removed.
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, statSync, unlinkSync } from "node:fs";
import { connect } from "node:net";
import { basename, dirname, join } from "node:path";
import { BerthError } from "../model/errors.js";
import { removeFile } from "../host/remove-file.js";

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

const uid = () => process.getuid?.() ?? 0;

/**
 * The daemon's root: created 0700 when missing (with any missing parents). An existing root may
 * be 0755 (`mkdir -p`), since nothing private sits directly in it, but it must be ours and not
 * writable by group or others: whoever can write it could swap the journal or the socket
 * directory. It is refused with the command that fixes it, never chmod-ed behind the user's back.
 */
export function preparePrivateRoot(root: string): void {
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new BerthError("invalidArgument", `cannot create the berth root ${root}: ${(err as Error).message}`);
  }
  const st = statSync(root);
  if (!st.isDirectory()) throw new BerthError("invalidArgument", `the berth root ${root} is not a directory`);
  if (st.uid !== uid()) {
    throw new BerthError("invalidArgument", `the berth root ${root} is owned by uid ${st.uid}, expected ${uid()} (the daemon's): fix it with \`chown ${uid()} ${root}\``);
  }
  if ((st.mode & 0o022) !== 0) {
    throw new BerthError(
      "invalidArgument",
      `the berth root ${root} has mode ${octal(st.mode)}: it is writable by ${st.mode & 0o020 ? "its group" : "others"}, who could replace the journal or the socket; ` +
        `fix it with \`chmod go-w ${root}\``,
    );
  }
}

/**
 * Creates the socket's directory with `dirMode` if missing. An existing directory is never
 * chmod-ed (it may be shared, like /tmp): it is refused if it grants more than `dirMode`, or if
 * someone else owns it (they could swap the socket for their own).
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
        `put the socket in a private directory (berth creates one if the path does not exist), or \`chmod ${octal(dirMode)} ${dir}\``,
    );
  }
  if (st.uid !== uid()) {
    throw new BerthError("invalidArgument", `socket directory ${dir} is owned by uid ${st.uid}, expected ${uid()}: the socket needs a directory of its own server's user`);
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
    // Nothing at the path: no identity to compare.
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

const temporaryPath = (socketPath: string, n: number) => join(dirname(socketPath), `.${basename(socketPath).slice(0, 16)}.${process.pid}.${n}`);

/** sun_path holds 107 bytes, for the real path and for the temporary name we bind first. */
export function checkSocketPathLength(socketPath: string): void {
  if (Buffer.byteLength(temporaryPath(socketPath, bound + 1)) > 107 || Buffer.byteLength(socketPath) > 107) {
    throw new BerthError("invalidArgument", `socket path ${socketPath} is too long for a Unix socket (at most about 80 bytes)`);
  }
}

export function temporaryName(socketPath: string): string {
  // pid + a counter is unique among live processes, so no randomness is needed (node:crypto
  // costs every runtime service about 1.5 MB of memory). A leftover of a dead process that had
  // our pid can only be stale: remove it, or the bind would fail.
  checkSocketPathLength(socketPath);
  const name = temporaryPath(socketPath, (bound += 1));
  removeFile(name);
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
