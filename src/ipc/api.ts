// The public API of the `berth` package (package.json "exports"): the typed RuntimeClient, its
// error class, and the types a program needs to drive containers through a running daemon.
// Only the client side is exported: importing `berth` loads msgpackr and the socket client,
// never the journal (better-sqlite3) or the daemon.
export { RuntimeClient, type ExitStatus, type LogsOptions, type OutputEntry, type ProcessSpecInput, type RunItem, type RunOptions } from "./runtime-client.js";
export { BerthError, ERROR_CODES, ERROR_REASONS, type ErrorCode, type ErrorInfo, type ErrorReason } from "../model/errors.js";
export type { ContainerConfigInput, ProcessSpec } from "../model/config.js";
export type { ContainerState } from "../projections/container.js";
