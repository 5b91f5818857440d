// `berth top ID [ps options]`: the host's `ps` (default `-ef`, as docker's top), cut to the
// processes in the container's cgroup. ps prints every process of the host, so the rows are
// matched to the cgroup's pids through ps's PID column, which docker requires too.
import { BerthError } from "../model/errors.js";
import { cgroupPids } from "./cgroup-stats.js";
import { runCommand } from "./host.js";
import { cgroupPath } from "./paths.js";

export interface TopResult {
  titles: string[];
  processes: string[][];
}

/** Splits ps's output into titles and rows; the last column (CMD) keeps its spaces. */
export function parsePs(output: string, pids: number[]): TopResult {
  const [head = "", ...lines] = output.split("\n").filter((l) => l.trim() !== "");
  const titles = head.trim().split(/\s+/);
  const pidColumn = titles.indexOf("PID");
  if (pidColumn < 0) throw new BerthError("invalidArgument", `ps's output has no PID column (titles: ${titles.join(" ")}): keep pid in -o`);
  const wanted = new Set(pids);
  const processes = lines
    .map((l) => {
      const cells = l.trim().split(/\s+/);
      return [...cells.slice(0, titles.length - 1), cells.slice(titles.length - 1).join(" ")];
    })
    .filter((cells) => wanted.has(Number(cells[pidColumn])));
  return { titles, processes };
}

export async function containerTop(root: string, id: string, psArgs: string[]): Promise<TopResult> {
  const pids = cgroupPids(cgroupPath(root, id));
  const r = await runCommand("ps", psArgs.length ? psArgs : ["-ef"]);
  if (r.code !== 0) throw new BerthError("invalidArgument", `ps ${psArgs.join(" ")} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  return parsePs(r.stdout, pids);
}
