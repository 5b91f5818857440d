// The edge of the command path: a request is parsed once, here, into a typed Command, or refused
// with invalidArgument. Ids, signals, numbers, configs and process specs are checked in this one
// place; the decider then keeps only the business rules (which status allows what, whether a
// process exists), and the layers below take the typed values without checking them again.
import { normaliseSignal, validateConfig, validateId, validateProcessSpec, type Validated } from "../model/config.js";
import { MAX_STOP_GRACE_SECONDS } from "../model/budget.js";
import { assertNever, type ErrorInfo } from "../model/errors.js";
import { DETACH_REASONS, type DetachReason } from "../events/catalogue.js";
import type { Command, CommandInput, CommandType } from "./commands.js";

/** A stop waits at most a day: longer is a typo, not a timeout. */

const ok = <T>(value: T): Validated<T> => ({ ok: true, value });
const bad = <T>(message: string): Validated<T> => ({ ok: false, error: { code: "invalidArgument", message } });

/**
 * A lifecycle route's body (already shape-checked by the route's schema) as a typed command.
 * Defaults a client may leave out are filled here: the process is the init, kill's signal is
 * SIGKILL. Defaults that need the container's state (stop's signal and timeout) stay absent.
 */
export function parseCommand(route: CommandType, body: Record<string, unknown>): Validated<Command> {
  return validateCommand(inputOf(route, body));
}

function inputOf(route: CommandType, b: Record<string, unknown>): CommandInput {
  const id = b.id as string;
  switch (route) {
    case "create": return { type: route, id, config: b.config };
    case "bootstrap": return { type: route, id, dynamicEnv: b.dynamicEnv ?? {}, run: b.run === true };
    case "startProcess": return { type: route, id, processId: b.processId ?? id };
    case "createProcess": return { type: route, id, processId: b.processId, spec: b.spec };
    case "kill": return { type: route, id, processId: b.processId ?? id, signal: b.signal ?? "SIGKILL" };
    case "stop": return { type: route, id, signal: b.signal, timeoutInSeconds: b.timeoutInSeconds };
    case "delete":
    case "shutdown":
    case "pause":
    case "unpause": return { type: route, id };
    case "attach": return { type: route, id, processId: b.processId ?? id, stdin: b.stdin ?? false, tty: b.tty ?? false };
    case "detach": return { type: route, id, session: b.session, reason: b.reason ?? "detached" };
    case "rename": return { type: route, id, name: b.name };
    default: return assertNever(route);
  }
}

/** A command whose fields arrived from outside (a route, a spec), checked and typed. */
export function validateCommand(input: CommandInput): Validated<Command> {
  const id = validateId(input.id);
  if (!id.ok) return id;
  switch (input.type) {
    case "create": {
      const config = validateConfig(input.config, id.value);
      return config.ok ? ok({ type: "create", id: id.value, config: config.value }) : config;
    }
    case "bootstrap": {
      const env = input.dynamicEnv ?? {};
      if (typeof env !== "object" || env === null || Array.isArray(env) || !Object.values(env).every((v) => typeof v === "string")) {
        return bad("dynamicEnv must map names to strings");
      }
      const command: Command = { type: "bootstrap", id: id.value, dynamicEnv: { ...(env as Record<string, string>) } };
      if (input.run === true) command.run = true;
      return ok(command);
    }
    case "startProcess": {
      const pid = validateId(input.processId, "process id");
      return pid.ok ? ok({ type: "startProcess", id: id.value, processId: pid.value }) : pid;
    }
    case "createProcess": {
      const pid = validateId(input.processId, "process id");
      if (!pid.ok) return pid;
      const spec = validateProcessSpec(input.spec, `process ${pid.value}`);
      return spec.ok ? ok({ type: "createProcess", id: id.value, processId: pid.value, spec: spec.value }) : spec;
    }
    case "kill": {
      const pid = validateId(input.processId, "process id");
      if (!pid.ok) return pid;
      const signal = normaliseSignal(input.signal);
      return signal.ok ? ok({ type: "kill", id: id.value, processId: pid.value, signal: signal.value }) : signal;
    }
    case "stop":
      return parseStop(id.value, input);
    case "attach": {
      const pid = validateId(input.processId, "process id");
      if (!pid.ok) return pid;
      if (typeof input.stdin !== "boolean" || typeof input.tty !== "boolean") return bad("attach: stdin and tty must be true or false");
      return ok({ type: "attach", id: id.value, processId: pid.value, stdin: input.stdin, tty: input.tty });
    }
    case "detach": {
      if (typeof input.session !== "string" || input.session === "") return bad("detach: session must be the id of the attach it ends");
      if (!DETACH_REASONS.includes(input.reason as DetachReason)) return bad(`detach: reason must be one of ${DETACH_REASONS.join(", ")}`);
      return ok({ type: "detach", id: id.value, session: input.session, reason: input.reason as DetachReason });
    }
    case "delete":
    case "shutdown":
    case "pause":
    case "unpause":
      return ok({ type: input.type, id: id.value });
    case "rename": {
      const name = validateId(input.name, "name");
      return name.ok ? ok({ type: "rename", id: id.value, name: name.value }) : name;
    }
    default:
      return assertNever(input);
  }
}

function parseStop(id: string, input: Extract<CommandInput, { type: "stop" }>): Validated<Command> {
  const command: Extract<Command, { type: "stop" }> = { type: "stop", id };
  if (input.signal !== undefined) {
    const signal = normaliseSignal(input.signal);
    if (!signal.ok) return signal;
    command.signal = signal.value;
  }
  if (input.timeoutInSeconds !== undefined) {
    const timeout = input.timeoutInSeconds;
    const error = stopTimeoutError(timeout);
    if (error) return { ok: false, error };
    command.timeoutInSeconds = timeout as number;
  }
  return ok(command);
}

/**
 * The stop timeout's range. The decider applies it too, to the container's configured default:
 * a config may hold more than a stop accepts (validateConfig bounds it only below).
 */
export function stopTimeoutError(timeout: unknown): ErrorInfo | undefined {
  if (typeof timeout === "number" && timeout >= 0 && timeout <= MAX_STOP_GRACE_SECONDS) return undefined;
  return { code: "invalidArgument", message: `stop timeout must be a number of seconds between 0 and ${MAX_STOP_GRACE_SECONDS}, got ${JSON.stringify(timeout)}` };
}
