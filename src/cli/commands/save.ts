// `berth save -o FILE IMAGE…`: pulled images as an archive docker, podman and skopeo read (an
// OCI layout holding docker's manifest.json too). It reads the store directly: no daemon.
import { resolve } from "node:path";
import { BerthError } from "../../model/errors.js";
import { saveArchive } from "../../vm/image/archive.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "save",
  description: "write images to a tar archive (an OCI layout with docker's manifest.json)",
  examples: ["berth save -o app.tar 127.0.0.1:5000/t/app:1", "berth save -o both.tar alpine busybox-app:1"],
  flags: (cmd) => cmd.option("-o, --output <file>", "the archive to write").argument("<image...>", "references, digests or image ids"),
  action: async (s, o, args) => {
    if (!o.output) throw new BerthError("invalidArgument", "save needs -o FILE: berth does not write an archive to a terminal");
    saveArchive(s.root, args, resolve(o.output as string));
    return 0;
  },
};
