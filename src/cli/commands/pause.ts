// `berth pause`: freeze containers (cgroup freezer).
import { eachContainer } from "../each-id.js";
import type { LeafCommand } from "./command.js";

export const pause = eachContainer("pause");

export const command: LeafCommand = {
  kind: "command",
  name: "pause",
  description: "freeze every process of running containers (cgroup freezer)",
  examples: ["berth pause w", "berth unpause w"],
  flags: (cmd) => cmd.argument("<id...>", "container ids"),
  action: (s, _o, args) => pause(s, args),
};
