// `berth cp SRC DST`: copies files between a container and the host, one side `ID:PATH`, in
// running and stopped containers, with docker's rules for directories and trailing slashes
// (src/vm/container-copy.ts). Container paths resolve inside the container's root. As docker's,
// `-` for SRC unpacks a tar archive from stdin into a container directory, and `-` for DST
// writes a tar archive of the container path to stdout (src/vm/container-tar.ts); `-a` keeps
// uid and gid, `-L` follows SRC when it is a symlink.
import { BerthError } from "../../model/errors.js";
import type { ContainerState } from "../../projections/container.js";
import { copyIn, copyOut, type CopyOptions } from "../../vm/container-copy.js";
import { tarOut, untarIn } from "../../vm/container-tar.js";
import { containerPaths } from "../../vm/paths.js";
import { withContainerRootfs } from "../../vm/rootfs.js";
import { resolve } from "node:path";
import type { Session } from "../context.js";
import { write } from "../output.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "cp",
  description: "copy files between a container and the host (ID:PATH on one side; - is a tar stream on stdin or stdout), running or stopped",
  examples: [
    "berth cp w:/etc/hostname .",
    "berth cp ./conf w:/etc/app/",
    "berth cp w:/var/log/. ./logs",
    "berth cp -a ./tree w:/srv",
    "berth cp -L w:/etc/localtime ./localtime",
    "berth cp w:/srv - | tar -t",
    "tar -c -C ./site . | berth cp - w:/var/www",
  ],
  flags: (cmd) => cmd
    .option("-a, --archive", "archive mode: keep the source's uid and gid (else the copy belongs to root in a container, to you on the host)")
    .option("-L, --follow-link", "follow SRC when it is a symlink (the copy keeps the link's name)")
    .argument("<src>", "ID:PATH, a host path, or - (a tar archive on stdin, unpacked into the DST directory)")
    .argument("<dst>", "ID:PATH, a host path, or - (a tar archive of SRC on stdout)"),
  action: (s, o, args) => cp(s, args[0]!, args[1]!, { archive: o.archive === true, followLink: o.followLink === true }),
};

/** `ID:PATH` → its parts; a host path (which may hold a colon after a slash, `./a:b`) → undefined. */
export function containerRef(arg: string): { id: string; path: string } | undefined {
  const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(arg);
  if (!m) return undefined;
  return { id: m[1]!, path: m[2]!.startsWith("/") ? m[2]! : `/${m[2]!}` };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export async function cp(session: Session, src: string, dst: string, opts: CopyOptions = {}): Promise<number> {
  const from = containerRef(src);
  const to = containerRef(dst);
  if ((from === undefined) === (to === undefined)) throw new BerthError("invalidArgument", "copying between containers or between host paths is not supported: exactly one of SRC and DST is ID:PATH");
  const ref = (from ?? to)!;
  if (src === "-" && process.stdin.isTTY) throw new BerthError("invalidArgument", "cp - reads a tar archive from stdin, which is a terminal: pipe or redirect one");
  if (dst === "-" && process.stdout.isTTY) throw new BerthError("invalidArgument", "cp … - writes a tar archive to stdout, which is a terminal: pipe or redirect it");
  const state = await (await session.client(ref.id)).state<ContainerState>();
  const paths = containerPaths(session.root, state.id);
  // The archive is read whole before the rootfs is touched (a stopped container's is mounted for the copy).
  const archive = src === "-" ? await readAll(process.stdin) : undefined;
  await withContainerRootfs(session.root, state.config.rootfs, paths, async (rootfs) => {
    // resolve() drops a trailing slash, which says "a directory" in docker's rules: keep it.
    const host = (p: string) => `${resolve(p)}${/\/\.?$/.test(p) ? p.slice(p.lastIndexOf("/")) : ""}`;
    if (archive) {
      const skipped = untarIn(rootfs, ref.id, to!.path, archive, opts);
      for (const name of skipped) process.stderr.write(`berth: cp: skipped ${name}: devices, fifos and sockets are not copied\n`);
    } else if (from && dst === "-") {
      for (const chunk of tarOut(rootfs, ref.id, from.path, opts)) await write(process.stdout, chunk);
    } else if (from) copyOut(rootfs, ref.id, from.path, host(dst), opts);
    else copyIn(rootfs, ref.id, host(src), to!.path, opts);
  });
  return 0;
}
