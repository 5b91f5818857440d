// The host's process table as the scale bench needs it: who is running, in which pid
// namespace, with what PSS. Read straight from /proc, so it counts whatever a runtime really
// keeps (a Node service, runc, conmon) without knowing its shape in advance.
import { execFile } from "node:child_process";
import fs from "node:fs";

export interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string;
  /** The target of /proc/PID/ns/pid, e.g. "pid:[4026531836]". */
  pidns: string;
}

const read = (path: string): string | undefined => {
  try {
    return fs.readFileSync(path, "utf8");
  } catch {
    return undefined; // the process exited between readdir and read
  }
};

export const pidNamespace = (pid: number | "self"): string | undefined => {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
};

/** Every process now, by pid. Kernel threads (empty cmdline) are left out: no runtime starts them. */
export function snapshot(): Map<number, Proc> {
  const procs = new Map<number, Proc>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = read(`/proc/${pid}/stat`);
    const cmdline = read(`/proc/${pid}/cmdline`);
    const pidns = pidNamespace(pid);
    if (!stat || !cmdline || !pidns) continue;
    // comm is in parentheses and may itself hold spaces or parentheses: split at the last ")".
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    procs.set(pid, { pid, ppid, comm, cmdline: cmdline.split("\0").join(" ").trim(), pidns });
  }
  return procs;
}

/** PSS in kB from /proc/PID/smaps_rollup (0 if the process is gone). */
export function pssKb(pid: number): number {
  const m = /^Pss:\s+(\d+) kB/m.exec(read(`/proc/${pid}/smaps_rollup`) ?? "");
  return m ? Number(m[1]) : 0;
}

/** VmRSS in kB from /proc/PID/status. */
export function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(read(`/proc/${pid}/status`) ?? "");
  return m ? Number(m[1]) : 0;
}

export interface Kept {
  /** Processes a runtime keeps for its containers, outside their pid namespaces. */
  kept: Proc[];
  /** New processes that are neither: another user's work on this shared host, reported so nothing is hidden. */
  ignored: Proc[];
}

/**
 * The processes new in `after` that the runtime keeps outside the containers: not in a
 * container's pid namespace (they share `hostNs`, the runtime's own), not the daemon, and
 * belonging to this run, i.e. their command line names `marker` (our temp root) or an
 * ancestor is the daemon or another kept process. conmon double-forks to PID 1, so
 * ancestry alone would miss it; the marker alone would miss a helper started without paths.
 */
export function keptProcesses(before: Map<number, Proc>, after: Map<number, Proc>, hostNs: string, marker: string, daemonPid?: number): Kept {
  const fresh = [...after.values()].filter((p) => !before.has(p.pid) && p.pid !== daemonPid && p.pid !== process.pid && p.pidns === hostNs);
  const ours = new Set<number>(fresh.filter((p) => p.cmdline.includes(marker)).map((p) => p.pid));
  const rooted = (p: Proc): boolean => {
    for (let q: Proc | undefined = p, hops = 0; q && hops < 64; q = after.get(q.ppid), hops++) {
      if (q.pid === daemonPid || ours.has(q.pid)) return true;
    }
    return false;
  };
  const kept = fresh.filter(rooted);
  return { kept, ignored: fresh.filter((p) => !kept.includes(p)) };
}

/** "name xCOUNT, ..." for a list of processes. */
export function names(procs: Proc[]): string {
  const counts = new Map<string, number>();
  for (const p of procs) counts.set(p.comm, (counts.get(p.comm) ?? 0) + 1);
  return [...counts].map(([n, c]) => `${n} x${c}`).join(", ") || "none";
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program without a shell and resolves with its exit, so many can run at once. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Like run, but a non-zero exit is an error that names the command. */
export async function must(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(cmd, args, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
