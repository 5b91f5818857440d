// `berth login [SERVER]`: checks the credentials against the registry (its challenge, as a pull
// meets it), then keeps them in berth's own 0600 file in docker's config.json format.
import { readFileSync } from "node:fs";
import { BerthError } from "../../model/errors.js";
import { DEFAULT_DOMAIN } from "../../model/reference.js";
import { compileWasmLightly } from "../../host/memory.js";
import { RegistryClient } from "../../vm/image/registry.js";
import { collect } from "./command.js";
import { saveCredentials } from "../credentials.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "login",
  description: "log in to a registry: check the credentials and keep them for pulls",
  examples: ["berth login -u me 127.0.0.1:5000 --password-stdin < pw.txt", "berth login -u me -p secret registry.example.com"],
  flags: (cmd) => cmd
    .option("-u, --username <name>", "user name")
    .option("-p, --password <password>", "password (prefer --password-stdin: a flag shows in ps)")
    .option("--password-stdin", "read the password from stdin")
    .option("--insecure-registry <host>", "speak plain HTTP to this registry (loopback always may) (repeatable)", collect, [])
    .argument("[server]", "registry host[:port]", DEFAULT_DOMAIN),
  action: async (_s, o, args) => {
    const server = normaliseServer(args[0] ?? DEFAULT_DOMAIN);
    if (!o.username) throw new BerthError("invalidArgument", "login needs -u USER and -p PASSWORD or --password-stdin");
    let password = o.password as string | undefined;
    if (o.passwordStdin) password = readFileSync(0, "utf8").replace(/\r?\n$/, "");
    if (!password) throw new BerthError("invalidArgument", "login needs a password: -p PASSWORD or --password-stdin");
    const credentials = { username: o.username as string, password };
    compileWasmLightly(); // before the first fetch, as the daemon does: its parser compiles in a fraction of the memory
    await new RegistryClient({ domain: server, path: "" }, { credentials, insecureRegistries: o.insecureRegistry as string[] }).ping();
    saveCredentials(server, credentials);
    out("Login Succeeded");
    return 0;
  },
};

/** "https://host:5000/" → "host:5000"; Docker Hub's names → docker.io. */
export function normaliseServer(text: string): string {
  const host = text.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  if (!/^[a-zA-Z0-9.-]+(:\d+)?$/.test(host)) throw new BerthError("invalidArgument", `invalid registry ${JSON.stringify(text)}: expected host[:port]`);
  return ["index.docker.io", "registry-1.docker.io", "docker.io"].includes(host) ? DEFAULT_DOMAIN : host;
}
