// `berth image import`: a `docker save` or OCI image-layout tarball becomes an image.
import { importImage } from "../../vm/image-import.js";
import type { CommandGroup } from "./command.js";

export const command: CommandGroup = {
  kind: "group",
  name: "image",
  description: "manage images",
  examples: ["berth image import alpine.tar --name alpine"],
  subcommands: [
    {
      kind: "command",
      name: "import",
      description: "import a `docker save` or OCI image-layout tarball as an image",
      examples: ["berth image import alpine.tar --name alpine", "berth run --rm alpine cat /etc/os-release"],
      flags: (cmd) => cmd.requiredOption("--name <name>", "image name").argument("<file>", "tarball"),
      action: async (s, o, args) => {
        const r = await importImage(s.root, args[0]!, o.name as string);
        process.stdout.write(`imported ${r.name}: ${r.layers} layers into ${r.rootfs}\n`);
        return 0;
      },
    },
  ],
};
