// `berth completion bash|zsh`: a completion script generated from the command registry.
import { Argument } from "commander";
import { bashCompletion, completionEntries, zshCompletion } from "../completion.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "completion",
  description: "print a shell completion script (bash or zsh), generated from berth's commands",
  examples: ["source <(berth completion bash)", "berth completion bash | sudo tee /etc/bash_completion.d/berth", "berth completion zsh > \"${fpath[1]}/_berth\""],
  flags: (cmd) => cmd.addArgument(new Argument("<shell>", "the shell").choices(["bash", "zsh"])),
  action: async (_s, _o, args) => {
    // Every command, as --help lists them: loaded here, so `berth completion` alone pays for it.
    const [{ loadCommands }, { buildProgram }] = await Promise.all([import("./index.js"), import("../program.js")]);
    const entries = completionEntries(buildProgram(await loadCommands()));
    out((args[0] === "zsh" ? zshCompletion : bashCompletion)(entries).trimEnd());
    return 0;
  },
};
