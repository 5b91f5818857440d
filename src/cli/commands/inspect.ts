// `berth inspect`: containers' projected state as JSON, or through a Go template (-f) over
// docker's field names (src/cli/docker-view.ts), as `docker inspect -f '{{.State.ExitCode}}'`.
import { toBerthError } from "../../model/errors.js";
import type { ContainerState } from "../../projections/container.js";
import { checkIds } from "../container-options.js";
import { EXIT, errorLine, type Session } from "../context.js";
import { dockerInspect } from "../docker-view.js";
import { inspectOf } from "../inspect.js";
import { warnIfStale } from "../journal-fault.js";
import { out } from "../output.js";
import { execute, parseTemplate } from "../template.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "inspect",
  description: "print containers' state as JSON, or through a Go template (-f)",
  examples: [
    "berth inspect w",
    "berth inspect -f '{{.State.ExitCode}}' w",
    "berth inspect -f '{{.Name}} {{.State.Status}} {{index .Config.Labels \"team\"}}' w v",
    "berth inspect -f '{{json .Config}}' w",
  ],
  flags: (cmd) => cmd
    .option("-f, --format <template>", "a Go template over docker's inspect fields (.Id, .Name, .State.Status, .State.ExitCode, .State.Pid, .Config.Labels, ...)")
    .argument("<id...>", "container ids"),
  action: (s, o, args) => inspect(s, args, o.format),
};

/**
 * Prints what it found; a missing container is reported and the rest still print (exit 125).
 * A template that fails on a container ends the command with the template's error (exit 1).
 */
export async function inspect(session: Session, ids: string[], format?: string): Promise<number> {
  checkIds(ids);
  const template = format === undefined ? undefined : parseTemplate(format);
  const found = [];
  let code = 0;
  for (const id of ids) {
    try {
      const state = await (await session.client(id)).state<ContainerState>();
      warnIfStale([state]);
      found.push(state);
    } catch (err) {
      process.stderr.write(`${errorLine(toBerthError(err))}\n`);
      code = EXIT.failure;
    }
  }
  if (template) for (const s of found) out(execute(template, dockerInspect(s), "*types.ContainerJSON"));
  else out(JSON.stringify(found.map(inspectOf), null, 2));
  return code;
}
