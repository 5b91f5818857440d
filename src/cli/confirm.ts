// docker's "Are you sure?" prompt, for the commands that remove things in bulk (`system prune`,
// `image prune`). Without a terminal to ask on it refuses rather than guesses.
import { createInterface } from "node:readline/promises";
import { BerthError } from "../model/errors.js";

export async function confirm(warning: string, what: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new BerthError("invalidArgument", `${what} asks for confirmation, but stdin is not a terminal: pass -f (--force) to prune without asking`);
  }
  process.stderr.write(`${warning}\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question("Are you sure you want to continue? [y/N] ");
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
