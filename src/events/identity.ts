// Is the file at the journal's path still the file the daemon opened? SQLite keeps writing to
// the inode it holds open, so a journal deleted or replaced under a running daemon goes on
// "working": its commits land in a file nobody will open again, and the next start finds an
// empty journal beside live containers. The daemon compares device and inode with what it
// opened before every append (one stat, ~2 µs) and, once they differ, refuses for good.
import { statSync } from "node:fs";
import { BerthError } from "../model/errors.js";

export interface FileId {
  dev: number;
  ino: number;
}

/** What happened to the journal file, for errors, `info` and stale replies. */
export interface JournalFault {
  kind: "deleted" | "replaced";
  path: string;
  opened: FileId;
  /** The file now at the path (replaced only). */
  now?: FileId;
  /** Milliseconds since the epoch. */
  detectedAt: number;
  message: string;
}

export class JournalGone extends BerthError {
  constructor(readonly fault: JournalFault) {
    super("invalidState", `${fault.message}; the daemon refuses commands until it is restarted with its journal restored (read-only routes answer from memory, marked stale)`);
  }
}

const fileId = (path: string): FileId | undefined => {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? { dev: st.dev, ino: st.ino } : undefined;
};

export class JournalIdentity {
  private fault: JournalFault | undefined;
  /** Called once, when the fault is first seen (the daemon logs it). */
  onFault: (fault: JournalFault) => void = () => {};

  private constructor(readonly path: string, readonly opened: FileId) {}

  /** The identity of the file at `path` now: call right after opening it. */
  static capture(path: string): JournalIdentity {
    const id = fileId(path);
    if (!id) throw new BerthError("notFound", `journal ${path} disappeared while it was being opened`);
    return new JournalIdentity(path, id);
  }

  /** The fault, if the path no longer holds the opened file. Sticky: a file put back later changes nothing. */
  check(now = Date.now()): JournalFault | undefined {
    if (this.fault) return this.fault;
    const current = fileId(this.path);
    if (current && current.dev === this.opened.dev && current.ino === this.opened.ino) return undefined;
    const was = `device ${this.opened.dev}, inode ${this.opened.ino}`;
    this.fault = current
      ? { kind: "replaced", path: this.path, opened: this.opened, now: current, detectedAt: now, message: `journal ${this.path} was replaced under the running daemon: it opened ${was}, the path now holds device ${current.dev}, inode ${current.ino}` }
      : { kind: "deleted", path: this.path, opened: this.opened, detectedAt: now, message: `journal ${this.path} was deleted under the running daemon (it opened ${was})` };
    this.onFault(this.fault);
    return this.fault;
  }

  /** Throws JournalGone once the file is gone or replaced. */
  assert(): void {
    const fault = this.check();
    if (fault) throw new JournalGone(fault);
  }
}
