// `berth load [-i FILE]`: the daemon loads an image archive (an OCI layout, as `berth save`,
// docker 25+ and `skopeo copy … oci-archive:` write, or a classic `docker save`) into the store,
// and journals ImageLoaded for each image. Without -i the archive is read from stdin, as
// docker's: the CLI copies it into a 0600 temp file of the caller's, which the daemon reads.
import fs from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { BerthError } from "../../model/errors.js";
import type { ImageRecord } from "../../vm/image/store.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "load",
  description: "load images from a tar archive (OCI layout or docker save), from -i FILE or stdin",
  examples: ["berth load -i app.tar", "berth load < alpine-docker-save.tar", "cat app.tar | berth load"],
  flags: (cmd) => cmd.option("-i, --input <file>", "the archive to read (default: stdin)"),
  action: async (s, o) => {
    const ipc = await s.ipc();
    const load = (file: string) => ipc.call<ImageRecord[]>("imageLoad", { file });
    const loaded = o.input ? await load(resolve(o.input as string)) : await fromStdin(load);
    for (const r of loaded) out(`Loaded image: ${r.reference}`);
    return 0;
  },
};

async function fromStdin(load: (file: string) => Promise<ImageRecord[]>): Promise<ImageRecord[]> {
  if (process.stdin.isTTY) throw new BerthError("invalidArgument", "requested load from stdin, but stdin is a terminal: give -i FILE or redirect an archive into it");
  const dir = fs.mkdtempSync(join(tmpdir(), "berth-load-"));
  try {
    const file = join(dir, "archive.tar");
    await pipeline(process.stdin, fs.createWriteStream(file, { mode: 0o600 }));
    if (fs.statSync(file).size === 0) throw new BerthError("invalidArgument", "requested load from stdin, but stdin is empty");
    return await load(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
