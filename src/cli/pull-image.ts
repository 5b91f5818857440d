// Pulling through the daemon, as `berth pull` shows it and as `run` and `create` use it for
// `--pull` (pull-for-run.ts): docker's plain lines when the output is not a terminal, a line
// per layer updated in place when it is (src/cli/pull-progress.ts), only the reference with
// --quiet. Credentials come from src/cli/credentials.ts.
import { BerthError } from "../model/errors.js";
import { familiarRepository, parseReference } from "../model/reference.js";
import type { PullProgress } from "../vm/image/pull.js";
import type { ImageRecord } from "../vm/image/store.js";
import type { Session } from "./context.js";
import { credentialsFor } from "./credentials.js";
import { out } from "./output.js";
import { PullDisplay } from "./pull-progress.js";

export interface PullFlags {
  platform?: string;
  quiet?: boolean;
  insecureRegistry: string[];
}

type PullItem = { progress: PullProgress } | { pulled: ImageRecord; changed: boolean };

export async function pull(session: Session, flags: PullFlags, text: string, print: (line: string) => void = out): Promise<number> {
  const parsed = parseReference(text);
  if (!parsed.ok) throw BerthError.from(parsed.error);
  const ref = parsed.value;
  const body: Record<string, unknown> = { reference: text, insecureRegistries: flags.insecureRegistry };
  if (flags.platform !== undefined) body.platform = flags.platform;
  const credentials = credentialsFor(ref.domain);
  if (credentials) body.credentials = credentials;
  const ipc = await session.ipc();
  const say = (line: string) => (flags.quiet ? undefined : print(line));
  // `pull` shows its progress on stdout, `run` and `create` on stderr: a terminal there gets docker's board.
  const display = new PullDisplay(print === out ? process.stdout : process.stderr, say, flags.quiet === true);
  say(`${ref.tag ?? ref.digest}: Pulling from ${familiarRepository(ref)}`);
  let result: { pulled: ImageRecord; changed: boolean } | undefined;
  for await (const item of ipc.stream<PullItem>("pull", body)) {
    if ("pulled" in item) result = item;
    else if (item.progress.kind === "fallback") process.stderr.write(`mirror ${item.progress.mirror} failed, trying the next: ${item.progress.reason}\n`);
    else display.onProgress(item.progress);
  }
  display.finish();
  if (!result) throw new BerthError("internalError", "the daemon ended the pull without naming the image");
  const name = `${familiarRepository(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ""}`;
  say(`Digest: ${result.pulled.index ?? result.pulled.manifest}`);
  say(result.changed ? `Status: Downloaded newer image for ${name}` : `Status: Image is up to date for ${name}`);
  print(result.pulled.reference);
  return 0;
}
