// `berth pull`: the daemon downloads an image into its store and journals ImagePulled; this
// prints its progress: docker's plain lines when stdout is not a terminal, one line per layer
// updated in place when it is, and only the reference with --quiet.
import { BerthError } from "../../model/errors.js";
import { familiarRepository, parseReference } from "../../model/reference.js";
import type { PullProgress } from "../../vm/image/pull.js";
import type { ImageRecord } from "../../vm/image/store.js";
import { collect } from "../container-options.js";
import type { Session } from "../context.js";
import { humanBytes } from "../format.js";
import { out } from "../output.js";
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
  action: (s, o, args) => pull(s, o as never, args[0]!),
};

export interface PullFlags {
  platform?: string;
  quiet?: boolean;
  insecureRegistry: string[];
}

type PullItem = { progress: PullProgress } | { pulled: ImageRecord; changed: boolean };

const short = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);

export async function pull(session: Session, flags: PullFlags, text: string): Promise<number> {
  const parsed = parseReference(text);
  if (!parsed.ok) throw BerthError.from(parsed.error);
  const ref = parsed.value;
  const body: Record<string, unknown> = { reference: text, insecureRegistries: flags.insecureRegistry };
  if (flags.platform !== undefined) body.platform = flags.platform;
  const ipc = await session.ipc();
  const tty = process.stdout.isTTY === true && !flags.quiet;
  const say = (line: string) => (flags.quiet ? undefined : out(line));
  say(`${ref.tag ?? ref.digest}: Pulling from ${familiarRepository(ref)}`);
  let result: { pulled: ImageRecord; changed: boolean } | undefined;
  for await (const item of ipc.stream<PullItem>("pull", body)) {
    if ("pulled" in item) result = item;
    else if (item.progress.kind === "layer") {
      const p = item.progress;
      if (p.status === "exists") say(`${short(p.digest)}: Already exists`);
      else if (p.status === "verified") say(`${tty ? "\r\x1b[K" : ""}${short(p.digest)}: Pull complete`);
      else if (tty) process.stdout.write(`\r\x1b[K${short(p.digest)}: Downloading ${humanBytes(p.current)}/${humanBytes(p.total)}`);
    }
  }
  if (!result) throw new BerthError("internalError", "the daemon ended the pull without naming the image");
  const name = `${familiarRepository(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ""}`;
  say(`Digest: ${result.pulled.index ?? result.pulled.manifest}`);
  say(result.changed ? `Status: Downloaded newer image for ${name}` : `Status: Image is up to date for ${name}`);
  out(result.pulled.reference);
  return 0;
}
