// The error model shared by every layer: deciders return these codes, the journal and IPC
// raise them, and the CLI maps them to docker's exit codes. Codes follow Apple's
// ContainerizationError so a client written for one reads the other.

export const ERROR_CODES = [
  "invalidArgument",
  "notFound",
  "exists",
  "invalidState",
  "timeout",
  "unsupported",
  "internalError",
  "interrupted",
  "cancelled",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The plain shape that crosses process boundaries (IPC replies, decisions). */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export class BerthError extends Error implements ErrorInfo {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "BerthError";
    this.code = code;
  }

  toJSON(): ErrorInfo {
    return { code: this.code, message: this.message };
  }

  static from(info: ErrorInfo): BerthError {
    return new BerthError(info.code, info.message);
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** Normalises anything thrown into a BerthError; unknown failures become internalError. */
export function toBerthError(err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  if (err && typeof err === "object" && isErrorCode((err as ErrorInfo).code) && typeof (err as ErrorInfo).message === "string") {
    return BerthError.from(err as ErrorInfo);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new BerthError("internalError", message);
}

export function assertNever(value: never): never {
  throw new BerthError("internalError", `unhandled case: ${JSON.stringify(value)}`);
}
