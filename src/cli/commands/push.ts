// `berth push NAME[:TAG]`: sends an image of the store to its registry, with the credentials a
// pull would use (src/cli/credentials.ts). It reads the store directly, as save does, and prints
// docker's lines.
import { BerthError } from "../../model/errors.js";
import { familiarRepository, parseReference } from "../../model/reference.js";
import { pushImage } from "../../vm/image/push.js";
import { collect } from "./command.js";
import { credentialsFor } from "../credentials.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

const short = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);

export const command: LeafCommand = {
  kind: "command",
  name: "push",
  description: "upload an image to a registry (name it there first with image tag)",
  examples: ["berth image tag alpine 127.0.0.1:5000/team/alpine:3 && berth push 127.0.0.1:5000/team/alpine:3"],
  flags: (cmd) => cmd
    .option("-q, --quiet", "print only the pushed reference")
    .option("--insecure-registry <host>", "speak plain HTTP to this registry (loopback always may) (repeatable)", collect, [])
    .argument("<name>", "[HOST[:PORT]/]NAME[:TAG]"),
  action: async (s, o, args) => {
    const parsed = parseReference(args[0]!);
    if (!parsed.ok) throw BerthError.from(parsed.error);
    const ref = parsed.value;
    const say = (line: string) => (o.quiet ? undefined : out(line));
    say(`The push refers to repository [${ref.domain === "docker.io" ? `docker.io/${ref.path}` : familiarRepository(ref)}]`);
    const credentials = credentialsFor(ref.domain);
    const r = await pushImage(s.root, args[0]!, {
      ...(credentials ? { credentials } : {}),
      insecureRegistries: o.insecureRegistry as string[],
      onProgress: (p) => {
        if (p.status === "exists") say(`${short(p.digest)}: Layer already exists`);
        else if (p.status === "pushed") say(`${short(p.digest)}: Pushed`);
      },
    });
    say(`${ref.tag}: digest: ${r.digest} size: ${r.size}`);
    if (o.quiet) out(r.record.reference);
    return 0;
  },
};
