// Entry point of the `berth` CLI (bin/berth.js runs the compiled dist/src/cli/main.js).
// Exit codes follow docker: 125 when berth or the daemon failed (with `berth: <code>: <message>`),
// 126 / 127 when a command cannot be invoked / is not found in the container, 2 for usage
// errors, 1 for a --format template that fails, and otherwise the process's own code.
import { CommanderError } from "commander";
import { toBerthError } from "../model/errors.js";
import { EXIT, errorLine, exitCodeForError } from "./context.js";
import { exitWhenDrained, guardPipes } from "./output.js";
import { loadCommands } from "./commands/index.js";
import { buildProgram, commandNamed } from "./program.js";
import { TemplateError } from "./template.js";

/** The only way the CLI exits with a code: after stdout and stderr have drained (output.ts). */
export { exitWhenDrained };

/** Runs one command line. Resolves with the exit code, or undefined for `berth daemon` (it keeps serving). */
export async function main(argv: string[]): Promise<number | undefined> {
  const named = commandNamed(argv);
  guardPipes(named === "daemon" ? "ignore" : "exit");
  let code: number | undefined;
  const program = buildProgram(await loadCommands(named), { done: (c) => (code = c) });
  try {
    await program.parseAsync(argv, { from: "user" });
    if (code === undefined && argv.length === 0) {
      program.outputHelp();
      return 0;
    }
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.help" || err.code === "commander.version") return 0;
      return EXIT.usage;
    }
    // docker prints a template's error as it is and exits 1.
    if (err instanceof TemplateError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    const e = toBerthError(err);
    process.stderr.write(`${errorLine(e)}\n`);
    return exitCodeForError(e);
  }
}
