// `berth images` (`image ls`): the pulled images, with docker's columns, or through a Go
// template over docker's image fields (formatter.ImageContext). It reads the store's refs index
// directly: listing needs no daemon.
import { BerthError } from "../../model/errors.js";
import { parseReference, familiarRepository } from "../../model/reference.js";
import { ImageStore, type ImageRecord } from "../../vm/image/store.js";
import { collect } from "./command.js";
import type { Session } from "../context.js";
import { ago, humanBytes } from "../format.js";
import { out } from "../output.js";
import { render } from "../template.js";
import type { LeafCommand } from "./command.js";

export const IMAGES_EXAMPLES = [
  "berth images",
  "berth images --digests",
  "berth images -q --filter reference='127.0.0.1:5000/t/*'",
  "berth images --format 'table {{.Repository}}:{{.Tag}}\\t{{.Size}}'",
  "berth images --format '{{json .}}'",
];

export const command: LeafCommand = {
  kind: "command",
  name: "images",
  description: "list pulled images",
  format: "template",
  examples: IMAGES_EXAMPLES,
  flags: (cmd) => imagesFlags(cmd),
  action: (s, o) => images(s, o as never),
};

export function imagesFlags(cmd: import("commander").Command): import("commander").Command {
  return cmd
    .option("-q, --quiet", "only image ids")
    .option("--digests", "show the manifest digests")
    .option("--no-trunc", "full image ids (sha256:...)")
    .option("--filter <key=value>", "reference=PATTERN (glob: * and ?) or dangling=true|false (repeatable)", collect, []);
}

export interface ImagesFlags {
  quiet?: boolean;
  digests?: boolean;
  /** commander's --no-trunc: false when given. */
  trunc?: boolean;
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

/** docker's formatter.ImageContext: the fields `images --format` knows. */
export interface ImageView {
  ID: string;
  Repository: string;
  Tag: string;
  Digest: string;
  CreatedSince: string;
  CreatedAt: string;
  Size: string;
  Containers: string;
  SharedSize: string;
  UniqueSize: string;
  VirtualSize: string;
}

export function imageView(r: ImageRecord, now = Date.now(), full = false): ImageView {
  const parsed = parseReference(r.reference);
  const created = r.created && !Number.isNaN(Date.parse(r.created)) ? Date.parse(r.created) : undefined;
  return {
    ID: full ? r.config : shortId(r.config),
    Repository: parsed.ok ? familiarRepository(parsed.value) : r.reference,
    Tag: parsed.ok ? (parsed.value.tag ?? "<none>") : "<none>",
    Digest: r.index ?? r.manifest,
    CreatedSince: created === undefined ? "N/A" : ago(created, now),
    CreatedAt: created === undefined ? "N/A" : new Date(created).toISOString().replace("T", " ").replace(/\.\d+Z$/, " +0000 UTC"),
    Size: humanBytes(r.size),
    Containers: "N/A",
    SharedSize: "N/A",
    UniqueSize: "N/A",
    VirtualSize: humanBytes(r.size),
  };
}

/** docker images' column names, for `table` templates. */
export const IMAGE_HEADERS: Record<string, string> = {
  ID: "IMAGE ID", Repository: "REPOSITORY", Tag: "TAG", Digest: "DIGEST", CreatedSince: "CREATED", CreatedAt: "CREATED AT",
  Size: "SIZE", Containers: "CONTAINERS", SharedSize: "SHARED SIZE", UniqueSize: "UNIQUE SIZE", VirtualSize: "VIRTUAL SIZE",
};

/** docker images' default table, and with --digests. */
export const IMAGES_TABLE = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
export const IMAGES_TABLE_DIGESTS = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

/** `--format json` is berth's own records (digests, platform, layers); `{{json .}}` is docker's line. */
export async function images(session: Session, flags: ImagesFlags): Promise<number> {
  const format = flags.format ?? "table";
  const filters = filtersOf(flags.filter ?? []);
  const records = Object.values(new ImageStore(session.root).refs())
    .filter((r) => filters.every((f) => f(r)))
    .sort((a, b) => a.reference.localeCompare(b.reference));
  if (flags.quiet) for (const id of new Set(records.map((r) => imageView(r, 0, flags.trunc === false).ID))) out(id);
  else if (format === "json") out(JSON.stringify(records, null, 2));
  else {
    const now = Date.now();
    const template = format === "table" ? (flags.digests ? IMAGES_TABLE_DIGESTS : IMAGES_TABLE) : format;
    for (const line of render(template, records.map((r) => imageView(r, now, flags.trunc === false)), IMAGE_HEADERS, "*formatter.imageContext")) out(line);
  }
  return 0;
}
