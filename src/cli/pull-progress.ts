// A pull's progress as docker shows it. On a terminal every layer has a line of its own, in the
// manifest's order, rewritten in place as the daemon reports it (`Pulling fs layer`,
// `Downloading [==>   ]  1.2MB/40MB`, `Download complete`, `Extracting`, `Pull complete`, or
// `Already exists`): the cursor goes up to the layer's line and back down, as docker's
// jsonmessage display does. Elsewhere, docker's plain lines: one when a layer is done.
import type { PullProgress } from "../vm/image/pull.js";
import { humanBytes } from "./format.js";

const short = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);
const BAR = 50;

/** docker's `[=====>     ]`, 50 wide. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return "";
  const done = Math.min(BAR, Math.floor((current / total) * BAR));
  return `[${"=".repeat(Math.max(0, done - 1))}${done > 0 ? (done === BAR ? "=" : ">") : ""}${" ".repeat(BAR - done)}]`;
}

export interface Terminalish {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class PullDisplay {
  /** The layers' lines on the terminal, bottom layer first, once the first layer is reported. */
  private order: string[] = [];
  private readonly text = new Map<string, string>();
  /** How many layer lines are on the screen, the cursor on the line below them. */
  private printed = 0;
  private readonly tty: boolean;

  constructor(private readonly stream: Terminalish, private readonly say: (line: string) => void, quiet: boolean) {
    this.tty = stream.isTTY === true && !quiet;
  }

  onProgress(p: PullProgress): void {
    if (p.kind === "resolved") {
      // A new attempt (after a mirror failed) gets lines of its own below the last.
      this.order = p.digests ?? [];
      this.text.clear();
      this.printed = 0;
      return;
    }
    if (p.kind === "fallback") return;
    if (p.kind === "unpacking") {
      if (!this.tty || this.printed === 0) return;
      for (const d of p.digest ? [p.digest] : this.order) if (this.text.get(d) !== "Already exists") this.set(d, "Extracting");
      return;
    }
    const status = p.status === "exists" ? "Already exists" : p.status === "verified" ? "Download complete" : `Downloading ${progressBar(p.current, p.total)}  ${humanBytes(p.current)}/${humanBytes(p.total)}`;
    if (!this.tty) {
      if (p.status === "exists") this.say(`${short(p.digest)}: Already exists`);
      else if (p.status === "verified") this.say(`${short(p.digest)}: Pull complete`);
      return;
    }
    if (!this.order.includes(p.digest)) this.order.push(p.digest); // an older daemon names no layers up front
    this.set(p.digest, status);
  }

  /** The pull ended: every layer it fetched is complete. Call before printing the lines after it. */
  finish(): void {
    if (!this.tty || this.printed === 0) return;
    for (const d of this.order) if (this.text.get(d) !== "Already exists") this.set(d, "Pull complete");
  }

  private set(digest: string, status: string): void {
    this.text.set(digest, status);
    const before = this.printed;
    // The first report prints every layer's line; a layer the board had no line for gets one below.
    while (this.printed < this.order.length) this.stream.write(`${this.line(this.order[this.printed++]!)}\n`);
    const at = this.order.indexOf(digest);
    if (at >= before) return; // just printed, with its status
    const up = this.printed - at;
    this.stream.write(`\x1b[${up}A\r\x1b[2K${this.line(digest)}\x1b[${up}B\r`);
  }

  private line(digest: string): string {
    const text = `${short(digest)}: ${this.text.get(digest) ?? "Pulling fs layer"}`;
    const width = (this.stream.columns ?? 80) - 1;
    return text.length > width ? text.slice(0, width) : text;
  }
}
