// Every lifecycle request, as a command. Fields arrive unvalidated from clients: the decider
// validates them, so a command object is safe to build straight from an IPC body.
import type { CommandType as LifecycleCommand } from "../model/lifecycle.js";


export type Command =
  | { type: "create"; id: string; config: unknown }
  | { type: "bootstrap"; id: string; dynamicEnv?: unknown; run?: boolean }
  | { type: "startProcess"; id: string; processId: string }
  | { type: "createProcess"; id: string; processId: string; spec: unknown }
  | { type: "kill"; id: string; processId: string; signal: unknown }
  | { type: "stop"; id: string; signal?: unknown; timeoutInSeconds?: unknown }
  | { type: "shutdown"; id: string }
  | { type: "delete"; id: string; force?: boolean }
  | { type: "pause"; id: string }
  | { type: "unpause"; id: string };

export type CommandType = Command["type"];

// The lifecycle table names every command: a command added here without a row there (or the
// other way round) does not compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const COMMANDS_MATCH_LIFECYCLE: Same<CommandType, LifecycleCommand> = true;
