// `berth shutdown`: release a container's sandbox.
import { eachContainer } from "../each-id.js";
import type { LeafCommand } from "./command.js";

export const shutdown = eachContainer("shutdown");

export const command: LeafCommand = {
  kind: "command",
  name: "shutdown",
  description: "release a container's sandbox; it can be bootstrapped again (low-level)",
  examples: ["berth shutdown w"],
  flags: (cmd) => cmd.argument("<id...>", "container ids"),
  action: (s, _o, args) => shutdown(s, args),
};
