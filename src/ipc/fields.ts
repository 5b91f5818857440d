// Body shape checks for route handlers. A malformed body is the caller's mistake, so it is
// reported as invalidArgument naming the field and what was expected; handlers stay one line.
import { validateId } from "../model/config.js";
import { BerthError } from "../model/errors.js";
import { describe, isPlainObject } from "./frame.js";

/**
 * string: at most MAX_STRING characters. id: a container or process id (1-64 of [a-zA-Z0-9_.-]).
 * count: a non-negative safe integer (positions, line counts, uids). time: ms since the epoch,
 * 0 to 8.64e15 (the Date range). seconds: a finite number from 0 to MAX_SECONDS. signal: a name
 * or a number. number / integer: finite / safe, any sign (kept for callers outside the daemon).
 */
export type FieldKind =
  | "string" | "id" | "number" | "integer" | "count" | "time" | "seconds" | "signal" | "boolean" | "object" | "array" | "string[]" | "record<string>";
/** A trailing "?" marks an optional field: absent or undefined is accepted. */
export type FieldSpec = Record<string, FieldKind | `${FieldKind}?`>;

type Base<K> = K extends "string" | "id"
  ? string
  : K extends "signal"
    ? string | number
  : K extends "number" | "integer" | "count" | "time" | "seconds"
    ? number
    : K extends "boolean"
      ? boolean
      : K extends "object"
        ? Record<string, unknown>
        : K extends "array"
          ? unknown[]
          : K extends "string[]"
            ? string[]
            : K extends "record<string>"
              ? Record<string, string>
              : never;
type Required<S> = { [F in keyof S as S[F] extends `${string}?` ? never : F]: Base<S[F]> };
type Optional<S> = { [F in keyof S as S[F] extends `${infer _}?` ? F : never]?: S[F] extends `${infer K}?` ? Base<K> : never };
export type Fields<S extends FieldSpec> = Required<S> & Optional<S> & Record<string, unknown>;

export const MAX_STRING = 4096;
export const MAX_ITEMS = 1024;
export const MAX_SECONDS = 2_000_000; // ~23 days: more than any stop timeout means
const MAX_TIME = 8.64e15;

const isString = (v: unknown): v is string => typeof v === "string" && v.length <= MAX_STRING;

function matches(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case "string": return isString(v);
    case "id": return validateId(v).ok; // the model's one id rule
    case "number": return typeof v === "number" && Number.isFinite(v);
    case "integer": return Number.isSafeInteger(v);
    case "count": return Number.isSafeInteger(v) && (v as number) >= 0;
    case "time": return typeof v === "number" && v >= 0 && v <= MAX_TIME;
    case "seconds": return typeof v === "number" && v >= 0 && v <= MAX_SECONDS;
    case "signal": return (typeof v === "string" && v.length <= 32) || (Number.isSafeInteger(v) && (v as number) > 0 && (v as number) < 128);
    case "boolean": return typeof v === "boolean";
    case "object": return isPlainObject(v);
    case "array": return Array.isArray(v) && v.length <= MAX_ITEMS;
    case "string[]": return Array.isArray(v) && v.length <= MAX_ITEMS && v.every(isString);
    case "record<string>": return isPlainObject(v) && Object.keys(v).length <= MAX_ITEMS && Object.entries(v).every(([k, x]) => k.length <= MAX_STRING && isString(x));
  }
}

/** What a kind accepts, in words, for error messages and docs/ipc.md. */
export const KIND_TEXT: Record<FieldKind, string> = {
  string: `a string of at most ${MAX_STRING} characters`,
  id: "an id: 1-64 characters of [a-zA-Z0-9_.-], starting with a letter or digit",
  number: "a finite number",
  integer: "a safe integer",
  count: "a non-negative integer",
  time: "ms since the epoch (0 to 8.64e15)",
  seconds: `a number of seconds from 0 to ${MAX_SECONDS}`,
  signal: "a signal name or number",
  boolean: "a boolean",
  object: "a map",
  array: `a list of at most ${MAX_ITEMS} items`,
  "string[]": `a list of at most ${MAX_ITEMS} strings`,
  "record<string>": `a map of at most ${MAX_ITEMS} strings`,
};

/**
 * Checks that `body` is an object whose fields have the given kinds, and returns it typed.
 * `requireFields(body, { id: "string", force: "boolean?" }, "delete")`.
 */
export function requireFields<S extends FieldSpec>(body: unknown, spec: S, what = "request body", opts: { strict?: boolean } = {}): Fields<S> {
  if (!isPlainObject(body)) throw new BerthError("invalidArgument", `${what} must be an object, got ${describe(body)}`);
  if (opts.strict) {
    // A misspelt field (fromPosition for after) must not be silently ignored.
    const unknown = Object.keys(body).find((k) => !Object.hasOwn(spec, k));
    if (unknown !== undefined) {
      throw new BerthError("invalidArgument", `${what} has an unknown field "${unknown.slice(0, 64)}"; its fields are ${Object.keys(spec).join(", ") || "none"}`);
    }
  }
  for (const [name, raw] of Object.entries(spec)) {
    const optional = raw.endsWith("?");
    const kind = (optional ? raw.slice(0, -1) : raw) as FieldKind;
    const value = Object.hasOwn(body, name) ? body[name] : undefined;
    if (value === undefined) {
      if (optional) continue;
      throw new BerthError("invalidArgument", `${what} is missing field "${name}" (expected ${kind})`);
    }
    if (!matches(kind, value)) {
      throw new BerthError("invalidArgument", `${what} field "${name}" must be ${kind}, got ${describe(value)} (${kind}: ${KIND_TEXT[kind]})`);
    }
  }
  return body as Fields<S>;
}
