// `berth cp SRC DST`: copies files between a container and the host, one side `ID:PATH`, in
// running and stopped containers, with docker's rules for directories and trailing slashes
// (src/vm/container-copy.ts). Container paths resolve inside the container's root.
import { BerthError } from "../../model/errors.js";
import type { ContainerState } from "../../projections/container.js";
import { copyIn, copyOut } from "../../vm/container-copy.js";
import { containerPaths } from "../../vm/paths.js";
import { withContainerRootfs } from "../../vm/rootfs.js";
import { resolve } from "node:path";
import type { Session } from "../context.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "cp",
  description: "copy files between a container and the host (ID:PATH on one side), running or stopped",
  examples: ["berth cp w:/etc/hostname .", "berth cp ./conf w:/etc/app/", "berth cp w:/var/log/. ./logs", "berth cp ./tree w:/srv"],
  flags: (cmd) => cmd.argument("<src>", "ID:PATH or a host path").argument("<dst>", "ID:PATH or a host path"),
  action: (s, _o, args) => cp(s, args[0]!, args[1]!),
};

/** `ID:PATH` → its parts; a host path (which may hold a colon after a slash, `./a:b`) → undefined. */
export function containerRef(arg: string): { id: string; path: string } | undefined {
  const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(arg);
  if (!m) return undefined;
  return { id: m[1]!, path: m[2]!.startsWith("/") ? m[2]! : `/${m[2]!}` };
}

export async function cp(session: Session, src: string, dst: string): Promise<number> {
  const from = containerRef(src);
  const to = containerRef(dst);
  if ((from === undefined) === (to === undefined)) throw new BerthError("invalidArgument", "copying between containers or between host paths is not supported: exactly one of SRC and DST is ID:PATH");
  const ref = (from ?? to)!;
  const state = await (await session.client(ref.id)).state<ContainerState>();
  const paths = containerPaths(session.root, state.id);
  await withContainerRootfs(session.root, state.config.rootfs, paths, (rootfs) => {
    // resolve() drops a trailing slash, which says "a directory" in docker's rules: keep it.
    const host = (p: string) => `${resolve(p)}${/\/\.?$/.test(p) ? p.slice(p.lastIndexOf("/")) : ""}`;
    if (from) copyOut(rootfs, ref.id, from.path, host(dst));
    else copyIn(rootfs, ref.id, host(src), to!.path);
  });
  return 0;
}
