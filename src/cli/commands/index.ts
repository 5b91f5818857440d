// The registry of `berth` commands, in the order `berth --help` lists them. Each module is
// imported only when its command runs, so `berth run` reads neither SQLite nor the audit, query
// and journal code (scripts/bundle.mjs splits each module into a chunk of its own);
// `berth --help`, a typo and docs/cli.md load them all. test/cli-commands.test.ts checks that
// each module is named as its entry here.
import type { CommandModule } from "./command.js";

export interface Registered {
  name: string;
  aliases?: string[];
  load(): Promise<{ command: CommandModule }>;
}

export const COMMANDS: readonly Registered[] = [
  // containers
  { name: "run", load: () => import("./run.js") },
  { name: "create", load: () => import("./create.js") },
  { name: "start", load: () => import("./start.js") },
  { name: "stop", load: () => import("./stop.js") },
  { name: "restart", load: () => import("./restart.js") },
  { name: "rename", load: () => import("./rename.js") },
  { name: "kill", load: () => import("./kill.js") },
  { name: "rm", load: () => import("./rm.js") },
  { name: "exec", load: () => import("./exec.js") },
  { name: "attach", load: () => import("./attach.js") },
  { name: "cp", load: () => import("./cp.js") },
  { name: "wait", load: () => import("./wait.js") },
  { name: "logs", load: () => import("./logs.js") },
  { name: "inspect", load: () => import("./inspect.js") },
  { name: "ls", aliases: ["ps"], load: () => import("./ls.js") },
  { name: "stats", load: () => import("./stats.js") },
  { name: "top", load: () => import("./top.js") },
  { name: "port", load: () => import("./port.js") },
  { name: "pause", load: () => import("./pause.js") },
  { name: "unpause", load: () => import("./unpause.js") },
  { name: "bootstrap", load: () => import("./bootstrap.js") },
  { name: "shutdown", load: () => import("./shutdown.js") },
  // audit
  { name: "events", load: () => import("./events.js") },
  { name: "history", load: () => import("./history.js") },
  { name: "journal", load: () => import("./journal.js") },
  { name: "system", load: () => import("./system.js") },
  { name: "info", load: () => import("./info.js") },
  { name: "version", load: () => import("./version.js") },
  // images and the daemon
  { name: "pull", load: () => import("./pull.js") },
  { name: "push", load: () => import("./push.js") },
  { name: "images", load: () => import("./images.js") },
  { name: "save", load: () => import("./save.js") },
  { name: "load", load: () => import("./load.js") },
  { name: "login", load: () => import("./login.js") },
  { name: "logout", load: () => import("./logout.js") },
  { name: "image", load: () => import("./image.js") },
  { name: "network", load: () => import("./network.js") },
  { name: "daemon", load: () => import("./daemon.js") },
  { name: "completion", load: () => import("./completion.js") },
];

/**
 * The modules a command line needs: only `word`'s when it names a command (see
 * program.ts's commandNamed), else every one (for --help, and commander's suggestions on a typo).
 */
export async function loadCommands(word?: string): Promise<CommandModule[]> {
  const named = COMMANDS.find((c) => c.name === word || c.aliases?.includes(word ?? ""));
  const wanted = named ? [named] : COMMANDS;
  return (await Promise.all(wanted.map((c) => c.load()))).map((m) => m.command);
}
