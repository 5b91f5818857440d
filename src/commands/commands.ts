// Every lifecycle request, as a command. A Command is typed and already checked: ids are valid,
// signals canonical, configs and specs validated. It is made by parseCommand / validateCommand
// (src/commands/parse.ts) from what a client sent, or by the daemon itself from journaled state.
import type { ContainerConfig, ProcessSpec } from "../model/config.js";
import type { CommandType as LifecycleCommand } from "../model/lifecycle.js";
import type { DetachReason } from "../events/catalogue.js";

export type Command =
  | { type: "create"; id: string; config: ContainerConfig }
  | { type: "bootstrap"; id: string; dynamicEnv?: Record<string, string>; run?: boolean }
  | { type: "startProcess"; id: string; processId: string }
  | { type: "createProcess"; id: string; processId: string; spec: ProcessSpec }
  /** `signal` is canonical ("SIGKILL"). */
  | { type: "kill"; id: string; processId: string; signal: string }
  /** Absent fields default to the container's configured stop signal and timeout. */
  | { type: "stop"; id: string; signal?: string; timeoutInSeconds?: number }
  | { type: "shutdown"; id: string }
  /** A forced delete is the route's stop then delete: the decider sees a plain delete. */
  | { type: "delete"; id: string }
  | { type: "pause"; id: string }
  | { type: "unpause"; id: string }
  /** A client attaches to a process's stdio (its terminal, or its stdin and output). */
  | { type: "attach"; id: string; processId: string; stdin: boolean; tty: boolean }
  /** The client of the attach journaled as `session` (that event's id) has left. */
  | { type: "detach"; id: string; session: string; reason: DetachReason }
  /** The container keeps its id (its stream, runc's and conmon's names); `name` is what users call it now. */
  | { type: "rename"; id: string; name: string };

/**
 * A command as it arrives from outside, its fields unchecked: the input of validateCommand.
 * Derived from Command, so the two cannot disagree on a command or a field.
 */
export type CommandInput = Unchecked<Command>;
type Unchecked<C> = C extends Command ? { [K in keyof C]: K extends "type" ? C[K] : unknown } : never;

export type CommandType = Command["type"];

// The lifecycle table names every command: a command added here without a row there (or the
// other way round) does not compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const COMMANDS_MATCH_LIFECYCLE: Same<CommandType, LifecycleCommand> = true;
