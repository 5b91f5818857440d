// `berth images` (`image ls`): the pulled images, with docker's columns. It reads the store's
// refs index directly: listing needs no daemon.
import { BerthError } from "../../model/errors.js";
import { parseReference, familiarRepository } from "../../model/reference.js";
import { ImageStore, type ImageRecord } from "../../vm/image/store.js";
import { collect } from "../container-options.js";
import type { Session } from "../context.js";
import { ago, humanBytes, parseFormat, table } from "../format.js";
import { out } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "images",
  description: "list pulled images",
  format: true,
  examples: ["berth images", "berth images --digests", "berth images -q --filter reference='127.0.0.1:5000/t/*'"],
  flags: (cmd) => imagesFlags(cmd),
  action: (s, o) => images(s, o as never),
};

export function imagesFlags(cmd: import("commander").Command): import("commander").Command {
  return cmd
    .option("-q, --quiet", "only image ids")
    .option("--digests", "show the manifest digests")
    .option("--filter <key=value>", "reference=PATTERN (glob: * and ?) or dangling=true|false (repeatable)", collect, []);
}

export interface ImagesFlags {
  quiet?: boolean;
  digests?: boolean;
  format?: string;
  filter?: string[];
}

/** docker's `reference=` filter: a glob over the familiar name, with or without its tag. */
function referenceMatcher(pattern: string): (r: ImageRecord) => boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")}$`);
  return (r) => {
    const parsed = parseReference(r.reference);
    if (!parsed.ok) return false;
    const repo = familiarRepository(parsed.value);
    return re.test(repo) || (parsed.value.tag !== undefined && re.test(`${repo}:${parsed.value.tag}`));
  };
}

function filtersOf(items: string[]): ((r: ImageRecord) => boolean)[] {
  return items.map((f) => {
    const eq = f.indexOf("=");
    const [key, value] = [f.slice(0, eq), f.slice(eq + 1)];
    if (key === "reference" && value) return referenceMatcher(value);
    // Every reference names an image, so none is dangling (docker's untagged leftovers).
    if (key === "dangling" && (value === "true" || value === "false")) return () => value === "false";
    throw new BerthError("invalidArgument", `invalid --filter "${f}": expected reference=PATTERN or dangling=true|false`);
  });
}

const shortId = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);

export async function images(session: Session, flags: ImagesFlags): Promise<number> {
  const format = parseFormat(flags.format);
  const filters = filtersOf(flags.filter ?? []);
  const records = Object.values(new ImageStore(session.root).refs())
    .filter((r) => filters.every((f) => f(r)))
    .sort((a, b) => a.reference.localeCompare(b.reference));
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
