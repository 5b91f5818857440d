// Where the VM layer keeps things under the berth root. One place, so the daemon, the runtime
// service and the tests agree on every path without passing them around.
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";

/** runc's state directory for this berth root (`runc --root X list` shows berth's containers only). */
export function runcRoot(root: string): string {
  return join(resolve(root), "runc");
}

export function imagesDir(root: string): string {
  return join(resolve(root), "images");
}

/** An image's rootfs: `<root>/images/<name>/rootfs`. */
export function imageRootfs(root: string, name: string): string {
  return join(imagesDir(root), name, "rootfs");
}

export function containerDir(root: string, id: string): string {
  return join(resolve(root), "containers", id);
}

export interface ContainerPaths {
  dir: string;
  bundle: string;
  rootfs: string;
  /** OCI process specs for exec'd processes, one file each. */
  processes: string;
  /** pid files written by `runc run` / `runc exec`. */
  pids: string;
  exits: string;
  logs: string;
  stdoutLog: string;
  stderrLog: string;
  socket: string;
  runtimeJson: string;
  /** The service's own stdout/stderr (not the container's). */
  serviceLog: string;
  /** runc's own error log (JSON lines), kept apart from the container's stderr. */
  runcLog: string;
  /** The config and dynamic env the service was started with. */
  serviceConfig: string;
}

export function containerPaths(root: string, id: string): ContainerPaths {
  const dir = containerDir(root, id);
  const bundle = join(dir, "bundle");
  const logs = join(dir, "logs");
  return {
    dir,
    bundle,
    rootfs: join(bundle, "rootfs"),
    processes: join(bundle, "processes"),
    pids: join(dir, "pids"),
    exits: join(dir, "exits"),
    logs,
    stdoutLog: join(logs, "stdout.log"),
    stderrLog: join(logs, "stderr.log"),
    socket: join(dir, "runtime.sock"),
    runtimeJson: join(dir, "runtime.json"),
    serviceLog: join(dir, "runtime.log"),
    runcLog: join(dir, "runc.log"),
    serviceConfig: join(dir, "service.json"),
  };
}

/**
 * The cgroup path runc uses for a container. cgroups are host-global while berth roots are
 * not (every test has its own root), so the root's hash keeps two roots' "web" apart.
 */
export function cgroupPath(root: string, id: string): string {
  const tag = createHash("sha256").update(resolve(root)).digest("hex").slice(0, 10);
  return `/berth/${tag}-${id}`;
}

/** The v1 controllers berth reads statistics from; each has its own hierarchy on these hosts. */
export const CGROUP_CONTROLLERS = ["memory", "cpuacct", "cpu", "pids", "blkio"] as const;

export function cgroupDirs(root: string, id: string): string[] {
  return CGROUP_CONTROLLERS.map((c) => join("/sys/fs/cgroup", c, cgroupPath(root, id)));
}
