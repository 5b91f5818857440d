// `berth unpause`: thaw paused containers.
import { eachContainer } from "../each-id.js";
import type { LeafCommand } from "./command.js";

export const unpause = eachContainer("unpause");

export const command: LeafCommand = {
  kind: "command",
  name: "unpause",
  description: "thaw paused containers",
  examples: ["berth unpause w"],
  flags: (cmd) => cmd.argument("<id...>", "container ids"),
  action: (s, _o, args) => unpause(s, args),
};
