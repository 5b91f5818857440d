// What a command module exports: everything about one `berth` command in one place (as ctr's
// and oclif's commands do). program.ts turns these values into commander commands; the module's
// own imports load only when its command runs (see index.ts).
import type { Command } from "commander";
import type { Session } from "../context.js";

/**
 * Runs the command: `opts` are its parsed flags merged with the global ones, `args` its
 * operands. Resolves with the exit code, or undefined for `berth daemon`, which keeps serving.
 */
export type Action = (session: Session, opts: Record<string, any>, args: string[]) => Promise<number | undefined>;

/** A command that runs: `berth run`, or a group's `berth journal verify`. */
export interface LeafCommand {
  kind: "command";
  name: string;
  description: string;
  examples: string[];
  aliases?: string[];
  /** Adds `--format table|json` (the command prints records); "template" also takes a Go template. */
  format?: boolean | "template";
  /** Declares the command's own flags and operands (beside --root and --format). */
  flags?: (cmd: Command) => Command;
  action: Action;
}

/** A command that only groups others: `berth journal`, `berth system`, `berth image`. */
export interface CommandGroup {
  kind: "group";
  name: string;
  description: string;
  examples: string[];
  subcommands: LeafCommand[];
}

export type CommandModule = LeafCommand | CommandGroup;

/** A repeatable flag's parser (`-e A=1 -e B=2`): each use adds its value to the list. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];
