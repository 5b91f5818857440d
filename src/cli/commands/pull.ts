// `berth pull`: the daemon downloads an image into its store and journals ImagePulled; this
// prints its progress (src/cli/pull-image.ts).
import { collect } from "./command.js";
import { pull, type PullFlags } from "../pull-image.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "pull",
  description: "download an image from a registry into the image store",
  examples: ["berth pull alpine", "berth pull --platform linux/arm64 alpine:3.19", "berth pull -q 127.0.0.1:5000/team/app:1"],
  flags: (cmd) => cmd
    .option("--platform <os/arch[/variant]>", "the platform to choose from a multi-platform image (default: the host's)")
    .option("-q, --quiet", "print only the image's reference")
    .option("--insecure-registry <host>", "speak plain HTTP to this registry (loopback always may) (repeatable)", collect, [])
    .argument("<reference>", "[HOST[:PORT]/]NAME[:TAG][@sha256:DIGEST]"),
  action: (s, o, args) => pull(s, o as PullFlags, args[0]!),
};
