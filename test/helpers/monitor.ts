// What the tests check of a container's monitor on the host: its init's conmon (pid and start
// time from conmon's pid file), and the exits conmon recorded, whoever was watching.
import { monitorAlive, processFiles, readMonitor, readPid, readRecordedExit } from "../../src/vm/conmon.js";
import type { MonitorIdentity } from "../../src/vm/driver.js";
import { containerPaths } from "../../src/vm/paths.js";

export interface MonitorProbe {
  alive: boolean;
  /** The conmon of init, while its pid file is there. */
  monitor?: MonitorIdentity;
}

export function initMonitor(root: string, id: string): MonitorProbe {
  const monitor = readMonitor(processFiles(containerPaths(root, id).dir, id, id).conmonPidFile);
  return monitor ? { alive: monitorAlive(monitor), monitor } : { alive: false };
}

/** The exit conmon recorded for a process, with its pid: undefined until it has died. */
export function recordedExitOf(root: string, id: string, processId: string) {
  const files = processFiles(containerPaths(root, id).dir, id, processId);
  const exit = readRecordedExit(files);
  const pid = readPid(files.pidFile);
  return exit && pid !== undefined ? { processId, pid, ...exit } : undefined;
}
