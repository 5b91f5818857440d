// `berth image ls|inspect|history|tag|rm|prune|import`: the image store. `ls` is `berth images`; `rm` asks the daemon,
// which journals ImageRemoved; `import` unpacks a `docker save` or OCI image-layout tarball.
import { BerthError } from "../../model/errors.js";
import { parseManifest } from "../../model/image.js";
import { familiarRepository, parseReference } from "../../model/reference.js";
import { importImage } from "../../vm/image-import.js";
import { ImageStore } from "../../vm/image/store.js";
import type { Session } from "../context.js";
import { confirm } from "../confirm.js";
import { ago, humanBytes, table, truncate } from "../format.js";
import { out } from "../output.js";
import type { CommandGroup } from "./command.js";
import { images, imagesFlags } from "./images.js";

export const command: CommandGroup = {
  kind: "group",
  name: "image",
  description: "manage images",
  examples: ["berth image ls", "berth image rm alpine", "berth image import alpine.tar --name alpine"],
  subcommands: [
    {
      kind: "command",
      name: "ls",
      description: "list pulled images (as `berth images`)",
      format: "template",
      examples: ["berth image ls", "berth image ls --digests", "berth image ls --format '{{.Repository}}:{{.Tag}} {{.ID}}'"],
      flags: imagesFlags,
      action: (s, o) => images(s, o as never),
    },
    {
      kind: "command",
      name: "inspect",
      description: "print pulled images as JSON: their digests, platform, layers and config",
      examples: ["berth image inspect alpine", "berth image inspect 127.0.0.1:5000/t/app:1"],
      flags: (cmd) => cmd.argument("<image...>", "references, digests or image ids"),
      action: async (s, _o, args) => (out(JSON.stringify(args.map((a) => inspectImage(s.root, a)), null, 2)), 0),
    },
    {
      kind: "command",
      name: "rm",
      description: "remove images: untag each reference, and delete the blobs nothing else names",
      examples: ["berth image rm alpine", "berth image rm -f 127.0.0.1:5000/t/app:1"],
      flags: (cmd) => cmd.option("-f, --force", "remove even if a stopped or created container uses it (never a running one)").argument("<image...>", "references, or image ids"),
      action: (s, o, args) => remove(s, o.force === true, args),
    },
    {
      kind: "command",
      name: "history",
      description: "show how an image was built: its config's history, newest first, with each layer's size",
      examples: ["berth image history alpine"],
      flags: (cmd) => cmd.argument("<image>", "a reference, digest or id"),
      action: async (s, _o, args) => (out(imageHistory(s.root, args[0]!)), 0),
    },
    {
      kind: "command",
      name: "tag",
      description: "give an image another name",
      examples: ["berth image tag 127.0.0.1:5000/t/app:1 app:stable"],
      flags: (cmd) => cmd.argument("<source>", "the image: a reference, digest or id").argument("<target>", "the new name: NAME[:TAG]"),
      action: async (s, _o, args) => {
        await (await s.ipc()).call("imageTag", { source: args[0]!, target: args[1]! });
        return 0;
      },
    },
    {
      kind: "command",
      name: "prune",
      description: "remove unused images: with -a every image no container uses",
      examples: ["berth image prune -a -f"],
      flags: (cmd) => cmd.option("-a, --all", "remove every image no container uses").option("-f, --force", "do not ask for confirmation"),
      action: (s, o) => prune(s, o.all === true, o.force === true),
    },
    {
      kind: "command",
      name: "import",
      description: "import a `docker save` or OCI image-layout tarball as an image",
      examples: ["berth image import alpine.tar --name alpine", "berth run --rm alpine cat /etc/os-release"],
      flags: (cmd) => cmd.requiredOption("--name <name>", "image name").argument("<file>", "tarball"),
      action: async (s, o, args) => {
        const r = await importImage(s.root, args[0]!, o.name as string);
        process.stdout.write(`imported ${r.name}: ${r.layers} layers into ${r.rootfs}\n`);
        return 0;
      },
    },
  ],
};

/** docker's image inspect shape, where berth has the fields; the manifest digest is `Descriptor.digest`. */
function inspectImage(root: string, name: string): Record<string, unknown> {
  const store = new ImageStore(root);
  const r = store.lookup(name);
  if (!r) throw new BerthError("notFound", `no such image: ${name}`);
  const config = store.config(r);
  const ref = parseReference(r.reference);
  const repo = ref.ok ? familiarRepository(ref.value) : r.reference;
  return {
    Id: r.config,
    RepoTags: ref.ok && ref.value.tag !== undefined ? [`${repo}:${ref.value.tag}`] : [],
    RepoDigests: [`${repo}@${r.index ?? r.manifest}`],
    Created: config.created ?? null,
    Architecture: config.architecture ?? null,
    Os: config.os ?? null,
    ...(config.variant ? { Variant: config.variant } : {}),
    Platform: r.platform,
    Size: r.size,
    Descriptor: { digest: r.manifest, ...(r.index ? { index: r.index } : {}) },
    Config: config.config ?? {},
    RootFS: { Type: "layers", Layers: r.layers },
  };
}

/** docker's IMAGE, CREATED, CREATED BY, SIZE, COMMENT; a step without a layer shows 0B. */
function imageHistory(root: string, name: string): string {
  const store = new ImageStore(root);
  const r = store.lookup(name);
  if (!r) throw new BerthError("notFound", `no such image: ${name}`);
  const config = store.config(r);
  const manifest = parseManifest(store.readBlob(r.manifest).toString("utf8"), undefined);
  const layers = manifest.ok && manifest.value.kind === "image" ? manifest.value.layers : [];
  const steps = config.history && config.history.length > 0 ? config.history : layers.map(() => ({}) as NonNullable<typeof config.history>[number]);
  let layer = 0;
  const rows = steps.map((h) => {
    const size = h.empty_layer ? 0 : (layers[layer++]?.size ?? 0);
    const created = h.created && !Number.isNaN(Date.parse(h.created)) ? ago(Date.parse(h.created)) : "N/A";
    return ["<missing>", created, truncate(h.created_by ?? "", 45), humanBytes(size), h.comment ?? ""];
  });
  rows.reverse();
  if (rows.length > 0) rows[0]![0] = r.config.slice(7, 19);
  return table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], rows);
}

async function prune(session: Session, all: boolean, force: boolean): Promise<number> {
  if (!force && !(await confirm(`WARNING! This will remove all ${all ? "images without at least one container associated to them" : "dangling images"}.`, "image prune"))) return 0;
  const r = await (await session.ipc()).call<{ untagged: string[]; deleted: string[] }>("imagePrune", { all });
  if (r.untagged.length > 0 || r.deleted.length > 0) out(["Deleted Images:", ...r.untagged.map((u) => `untagged: ${u}`), ...r.deleted.map((d) => `deleted: ${d}`)].join("\n"));
  out(`Total: ${r.untagged.length} untagged, ${r.deleted.length} deleted`);
  return 0;
}

async function remove(session: Session, force: boolean, refs: string[]): Promise<number> {
  const ipc = await session.ipc();
  for (const reference of refs) {
    const r = await ipc.call<{ untagged: string; deleted: string[] }>("imageRemove", { reference, force });
    out(`Untagged: ${r.untagged}`);
    for (const d of r.deleted) out(`Deleted: ${d}`);
  }
  return 0;
}
