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

/**
 * Why a failure happened, where a client must tell failures of one code apart without reading
 * the message: the CLI maps these to docker's 127 / 126. Set where the failure is detected,
 * carried over every wire and into the journal; absent on most errors and on old journaled ones.
 */
export const ERROR_REASONS = [
  /** The process's executable does not exist in the container (docker: 127). */
  "executableNotFound",
  /** It exists but cannot be invoked: permission, a directory, a bad format (docker: 126). */
  "notExecutable",
  /** A call ended because its client's connection closed: the client is gone, it did not cancel. */
  "clientGone",
] as const;

export type ErrorReason = (typeof ERROR_REASONS)[number];

/** The plain shape that crosses process boundaries (IPC replies, decisions, journaled events). */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  reason?: ErrorReason;
}

export class BerthError extends Error implements ErrorInfo {
  readonly code: ErrorCode;
  readonly reason?: ErrorReason;
  constructor(code: ErrorCode, message: string, reason?: ErrorReason) {
    super(message);
    this.name = "BerthError";
    this.code = code;
    if (reason !== undefined) this.reason = reason;
  }

  /** Without a reason the shape is `{ code, message }`, byte for byte what it was before reasons. */
  toJSON(): ErrorInfo {
    return this.reason === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, reason: this.reason };
  }

  /** A reason this build does not know (a newer peer's) is dropped: the code still holds. */
  static from(info: ErrorInfo): BerthError {
    return new BerthError(info.code, info.message, isErrorReason(info.reason) ? info.reason : undefined);
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

export function isErrorReason(value: unknown): value is ErrorReason {
  return typeof value === "string" && (ERROR_REASONS as readonly string[]).includes(value);
}

/** The wire and journal shape of anything thrown. */
export const errorInfo = (err: unknown): ErrorInfo => toBerthError(err).toJSON();

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
