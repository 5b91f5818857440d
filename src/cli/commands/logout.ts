// `berth logout [SERVER]`: forgets the credentials berth keeps for a registry.
import { DEFAULT_DOMAIN } from "../../model/reference.js";
import { removeCredentials } from "../credentials.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";
import { normaliseServer } from "./login.js";

export const command: LeafCommand = {
  kind: "command",
  name: "logout",
  description: "log out of a registry: remove its credentials from berth's file (or the credential helper it names)",
  examples: ["berth logout 127.0.0.1:5000", "berth logout"],
  flags: (cmd) => cmd.argument("[server]", "registry host[:port]", DEFAULT_DOMAIN),
  action: async (_s, _o, args) => {
    const server = normaliseServer(args[0] ?? DEFAULT_DOMAIN);
    out(removeCredentials(server) ? `Removing login credentials for ${server}` : `Not logged in to ${server}`);
    return 0;
  },
};
