// How the daemon keeps its memory down while it moves hundreds of megabytes (bench/pull.ts
// measures it): V8 settings it takes at start, and collecting the chunks a stream leaves behind
// as they die, not tens of megabytes later.
//
// A chunk a socket, zlib or a file read hands out is memory outside V8's heap, held by a
// wrapper object of a few dozen bytes. V8 frees that memory only when it collects the wrapper,
// and it collects wrappers when its young generation fills with them (tens of thousands of
// chunks) or when external memory passes a soft limit of its own. Between the two, the dead
// chunks pile up: a 300 MB download through fetch held 25-35 MB of them at its peak, and
// glibc keeps most of that resident afterwards. A minor GC (a scavenge of the 1 MiB young
// generation the daemon runs with: well under a millisecond) every MiB of chunks frees them
// as they die: the same download peaked at +8.6 MB, in the same time.
import v8 from "node:v8";
import vm from "node:vm";

type Gc = (options?: { type?: "minor" | "major" }) => void;

let exposed: Gc | undefined;

/** V8's own collector: the one `--expose-gc` gives, exposed at run time when the flag was not passed. */
export function collectGarbage(type: "minor" | "major" = "major"): void {
  if (!exposed) {
    exposed = (globalThis as { gc?: Gc }).gc;
    if (!exposed) {
      v8.setFlagsFromString("--expose-gc");
      exposed = vm.runInNewContext("gc") as Gc;
    }
  }
  exposed({ type });
}

/**
 * fetch parses HTTP with llhttp compiled to WebAssembly, and V8 compiles it with its optimizing
 * tier on the first fetch: a process grew from 40 to 85 MB for one request, 30 MB of it that
 * compilation. Its baseline tier alone (Liftoff) stays at 55 MB and downloaded a 300 MB blob
 * as fast (bench/pull.ts). V8 reads the flag when it compiles, so it takes effect here, before
 * the daemon's first fetch; `node --liftoff-only` on the command line would do the same.
 */
export function compileWasmLightly(): void {
  v8.setFlagsFromString("--liftoff-only");
}

const EVERY_BYTES = 1024 * 1024;

/** Counts the bytes of chunks a loop is done with, and runs a minor GC each time they reach a MiB. */
export class ChunkCollector {
  private pending = 0;

  done(bytes: number): void {
    this.pending += bytes;
    if (this.pending < EVERY_BYTES) return;
    this.pending = 0;
    collectGarbage("minor");
  }
}
