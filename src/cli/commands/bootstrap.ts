// `berth bootstrap`: prepare a created container's sandbox without starting init.
import { eachContainer } from "../each-id.js";
import type { LeafCommand } from "./command.js";

export const bootstrap = eachContainer("bootstrap");

export const command: LeafCommand = {
  kind: "command",
  name: "bootstrap",
  description: "prepare a created container's sandbox without starting init (low-level)",
  examples: ["berth create --name w busybox sleep 9", "berth bootstrap w", "berth start w"],
  flags: (cmd) => cmd.argument("<id...>", "container ids"),
  action: (s, _o, args) => bootstrap(s, args),
};
