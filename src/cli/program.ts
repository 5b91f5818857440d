// The `berth` command line as a commander parser, built from the command modules in
// commands/ (each declares its own flags, help text, examples and action; commands/index.ts
// lists them and loads them lazily). docs/cli.md is generated from this parser (see reference.ts).
import { Command, Option } from "commander";
import { berthVersion } from "../host/package-info.js";
import type { CommandModule, LeafCommand } from "./commands/command.js";
import { resolveRoot, Session, type GlobalOptions } from "./context.js";

export interface ProgramHooks {
  /** Receives each action's exit code. */
  done(code: number): void;
}

const examples = (lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;

/** Each command's examples, for the generated reference (docs/cli.md). */
export const EXAMPLES = new WeakMap<Command, string[]>();
const withExamples = (cmd: Command, lines: string[]) => {
  EXAMPLES.set(cmd, lines);
  return cmd.addHelpText("after", examples(lines));
};

/**
 * The top-level command a command line runs, when it can name only one: its first word after
 * any `--root DIR`. Undefined when it starts with another flag (`--help` lists every command)
 * or has no command. main.ts then loads and declares just that command (commands/index.ts):
 * commander builds the whole tree eagerly, and ~80 options cost a few ms of a short command's start.
 */
export function commandNamed(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--root") i++;
    else if (!arg.startsWith("--root=")) return arg.startsWith("-") ? undefined : arg;
  }
  return undefined;
}

/** Builds the parser from command modules: every one, or just the one a command line runs. */
export function buildProgram(commands: readonly CommandModule[], hooks: ProgramHooks = { done: () => {} }): Command {
  const program = new Command("berth")
    .description("A Linux container runtime whose memory is an event journal")
    .version(berthVersion())
    .option("--root <dir>", "berth root (default: $BERTH_ROOT, /var/lib/berth as root, else $XDG_STATE_HOME/berth)")
    .enablePositionalOptions()
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureHelp({ helpWidth: 110 })
    // Usage errors print as `berth: usage: ...` and exit 2 (see main.ts).
    .configureOutput({ outputError: (text, write) => write(`berth: usage: ${text.replace(/^error: /, "")}`) });
  withExamples(program, ["berth run --rm busybox echo hello", "berth run -d --name web busybox httpd -f", "berth history web", "berth journal verify"]);
  for (const c of commands) {
    if (c.kind === "command") declare(program, c, hooks);
    else {
      const group = withExamples(program.command(c.name).description(c.description), c.examples);
      for (const sub of c.subcommands) declare(group, sub, hooks);
    }
  }
  return program;
}

/** Declares a command with --root (and --format when it prints records) and its action. */
function declare(parent: Command, c: LeafCommand, hooks: ProgramHooks): void {
  const cmd = parent.command(c.name).description(c.description).option("--root <dir>", "berth root (overrides the global --root)");
  if (c.format === "template") cmd.option("--format <format>", "table, json (berth's records), or a Go template as docker's (table {{.ID}}\\t{{.Status}}; {{json .}} is docker's line)");
  else if (c.format) cmd.addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table"));
  withExamples(cmd, c.examples);
  for (const alias of c.aliases ?? []) cmd.alias(alias);
  c.flags?.(cmd);
  cmd.action(async (...args: unknown[]) => {
    const self = args[args.length - 1] as Command;
    const opts = self.optsWithGlobals<GlobalOptions & Record<string, unknown>>();
    const session = new Session(resolveRoot(opts));
    try {
      const code = await c.action(session, opts, self.args);
      // undefined: `berth daemon` now serves until SIGTERM and reports no exit code.
      if (code !== undefined) hooks.done(code);
    } finally {
      session.close();
    }
  });
}
