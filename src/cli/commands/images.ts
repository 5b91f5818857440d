// `berth images` (`image ls`): the pulled images, with docker's columns. It reads the store's
// refs index directly: listing needs no daemon.
import { parseReference, familiarRepository } from "../../model/reference.js";
import { ImageStore, type ImageRecord } from "../../vm/image/store.js";
import type { Session } from "../context.js";
import { ago, humanBytes, parseFormat, table } from "../format.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "images",
  description: "list pulled images",
  format: true,
  examples: ["berth images", "berth images --digests", "berth images -q"],
  flags: (cmd) => imagesFlags(cmd),
  action: (s, o) => images(s, o as never),
};

export function imagesFlags(cmd: import("commander").Command): import("commander").Command {
  return cmd.option("-q, --quiet", "only image ids").option("--digests", "show the manifest digests");
}

export interface ImagesFlags {
  quiet?: boolean;
  digests?: boolean;
  format?: string;
}

const shortId = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);

export async function images(session: Session, flags: ImagesFlags): Promise<number> {
  const format = parseFormat(flags.format);
  const records = Object.values(new ImageStore(session.root).refs()).sort((a, b) => a.reference.localeCompare(b.reference));
  if (flags.quiet) for (const id of new Set(records.map((r) => shortId(r.config)))) out(id);
  else if (format === "json") out(JSON.stringify(records, null, 2));
  else {
    const header = ["REPOSITORY", "TAG", ...(flags.digests ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"];
    out(table(header, records.map((r) => row(r, flags.digests === true))));
  }
  return 0;
}

function row(r: ImageRecord, digests: boolean): string[] {
  const parsed = parseReference(r.reference);
  const repo = parsed.ok ? familiarRepository(parsed.value) : r.reference;
  const tag = parsed.ok ? (parsed.value.tag ?? "<none>") : "<none>";
  const created = r.created && !Number.isNaN(Date.parse(r.created)) ? ago(Date.parse(r.created)) : "N/A";
  return [repo, tag, ...(digests ? [r.index ?? r.manifest] : []), shortId(r.config), created, humanBytes(r.size)];
}
