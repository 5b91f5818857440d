// The CLI reference (docs/cli.md), generated from the commander parser so it cannot drift:
// test/cli-docs.test.ts fails when the file differs from renderReference(). Regenerate with
//   node --import tsx -e 'import("./src/cli/reference.ts").then((m) => process.stdout.write(m.renderReference()))' > docs/cli.md
import type { Command } from "commander";
import { loadCommands } from "./commands/index.js";
import { buildProgram, EXAMPLES } from "./program.js";

// Every command module, loaded once, so renderReference() stays synchronous.
const COMMANDS = await loadCommands();

const HEADER = `# berth CLI reference

Generated from the parser in \`src/cli/program.ts\`; \`test/cli-docs.test.ts\` checks that this file
matches it. Regenerate with:

    node --import tsx -e 'import("./src/cli/reference.ts").then((m) => process.stdout.write(m.renderReference()))' > docs/cli.md

## Exit codes (as docker's)

| code | meaning |
|---|---|
| 0 | success |
| 1 | a \`--format\` template failed (\`ps\`, \`images\`, \`stats\`, \`inspect -f\`, \`info\`, \`version\`, \`system df\`); stderr has Go's error, as docker's: \`template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type ...\` |
| 2 | usage error: unknown command or flag, missing argument |
| 125 | berth or the daemon failed; stderr says \`berth: <code>: <message>\` (with a hint when no daemon is running) |
| 126 | the command exists in the container but cannot be invoked (\`run\`, \`exec\`) |
| 127 | the command was not found in the container (\`run\`, \`exec\`) |
| other | the container's or process's own exit code (\`run\`, \`start -a\`, \`exec\`, \`wait\`); a signalled process gives 128 + the signal number |

\`berth journal verify\` exits 1 when the chain is broken, when exit acks prove a lost tail, or when a snapshot is not the journal's fold. Signals are accepted as names
(\`SIGTERM\`, \`TERM\`, \`term\`) or numbers (\`15\`) everywhere. Times are RFC 3339, Unix seconds,
or a duration ago (\`10m\`, \`1h30m\`); \`events\` also takes \`@POSITION\`.

The root is \`--root DIR\`, else \`$BERTH_ROOT\`, else \`/var/lib/berth\` (root) or
\`$XDG_STATE_HOME/berth\`.

## Interactive containers (\`-i\`, \`-t\`, \`attach\`)

- \`-i\` keeps the process's stdin open and forwards the CLI's stdin to it; when the CLI's stdin
  ends (a pipe's EOF), the process reads EOF. \`echo hi | berth run -i --rm busybox cat\` prints \`hi\`.
- \`-t\` gives the process a pty and sets \`TERM=xterm\` unless the process's env names a TERM.
  Attached, it needs a terminal on the CLI's stdin, as docker's does: without one it fails with
  \`the input device is not a TTY\` and exit 1. The CLI's terminal is in raw mode for the session
  (Ctrl-C goes to the container) and is restored on every exit, an uncaught error, SIGTERM,
  SIGHUP, the daemon going away, and a detach. After a SIGKILL of the CLI, run \`reset\`.
- The window size is set at the start from the CLI's terminal and follows it (SIGWINCH).
- Detach keys: \`ctrl-p,ctrl-q\` by default, else \`detachKeys\` in the docker config
  (\`$DOCKER_CONFIG/config.json\` or \`~/.docker/config.json\`), else \`--detach-keys\`. Detaching
  leaves the process running. An attached run's stdin (\`run -it\`) is closed when its client leaves,
  as docker's StdinOnce; a detached one's (\`run -dit\`) stays open for the next \`attach\`.
- Without \`-t\`, Ctrl-C (SIGINT) and SIGTERM are forwarded to the process (\`attach --sig-proxy false\` turns that off).
- \`history\` shows every attach and detach with the client's uid and pid; a client that vanished
  without detaching is journaled as a \`clientGone\` detach. Keystrokes and output are never journaled.

## Bind mounts (\`-v SRC:DST[:ro]\`)

- \`SRC\` is a host path: absolute, or starting with \`./\` or \`../\`, resolved against the CLI's
  working directory (as docker 23+ and podman do). The resolved absolute path is what is
  journaled and what \`inspect\` shows. A bare name (\`-v data:/data\`) would be a named volume,
  which berth does not have yet: it is refused (\`invalidArgument\`).
- The daemon refuses a source that is not absolute, and any source that would expose the berth
  root, after resolving symlinks on the host: the root itself and anything inside it, in any mode
  (even read-only, a container could reach the daemon's socket and read every container's
  config); and any directory that contains the root (\`/\` included) mounted read-write.
- A directory that contains the root may be mounted read-only (\`-v /:/host:ro\`); the root then
  shows inside the container as an empty read-only directory.
- The check runs at create, so a refused mount is never journaled, and again when the sandbox's
  bundle is written (a symlink may have been re-pointed since).
- \`--rootfs DIR\` follows a stricter rule: the directory is the lower layer of the container's
  overlay, readable whole, so the root, anything inside it and any directory that contains it
  (\`/\` included) are refused in every mode.
`;

function walk(cmd: Command, path: string[], out: string[]): void {
  const name = [...path, cmd.name()].join(" ");
  const examples = EXAMPLES.get(cmd) ?? [];
  out.push(`\n## ${name}\n\n\`\`\`\n${cmd.helpInformation().trimEnd()}\n\`\`\`\n`);
  if (examples.length) out.push(`\nExamples:\n\n\`\`\`\n${examples.map((e) => `$ ${e}`).join("\n")}\n\`\`\`\n`);
  for (const sub of cmd.commands) walk(sub, [...path, cmd.name()], out);
}

export function renderReference(): string {
  const out = [HEADER];
  walk(buildProgram(COMMANDS), [], out);
  return out.join("");
}
