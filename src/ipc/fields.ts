// Body shape checks for route handlers. A malformed body is the caller's mistake, so it is
// reported as invalidArgument naming the field and what was expected; handlers stay one line.
import { BerthError } from "../errors.js";
import { describe, isPlainObject } from "./frame.js";

export type FieldKind = "string" | "number" | "integer" | "boolean" | "object" | "array" | "string[]" | "record<string>";
/** A trailing "?" marks an optional field: absent or undefined is accepted. */
export type FieldSpec = Record<string, FieldKind | `${FieldKind}?`>;

type Base<K> = K extends "string"
  ? string
  : K extends "number" | "integer"
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

function matches(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case "string": return typeof v === "string";
    case "number": return typeof v === "number" && Number.isFinite(v);
    case "integer": return Number.isSafeInteger(v);
    case "boolean": return typeof v === "boolean";
    case "object": return isPlainObject(v);
    case "array": return Array.isArray(v);
    case "string[]": return Array.isArray(v) && v.every((x) => typeof x === "string");
    case "record<string>": return isPlainObject(v) && Object.values(v).every((x) => typeof x === "string");
  }
}

/**
 * Checks that `body` is an object whose fields have the given kinds, and returns it typed.
 * `requireFields(body, { id: "string", force: "boolean?" }, "delete")`.
 */
export function requireFields<S extends FieldSpec>(body: unknown, spec: S, what = "request body"): Fields<S> {
  if (!isPlainObject(body)) throw new BerthError("invalidArgument", `${what} must be an object, got ${describe(body)}`);
  for (const [name, raw] of Object.entries(spec)) {
    const optional = raw.endsWith("?");
    const kind = (optional ? raw.slice(0, -1) : raw) as FieldKind;
    const value = Object.hasOwn(body, name) ? body[name] : undefined;
    if (value === undefined) {
      if (optional) continue;
      throw new BerthError("invalidArgument", `${what} is missing field "${name}" (expected ${kind})`);
    }
    if (!matches(kind, value)) {
      throw new BerthError("invalidArgument", `${what} field "${name}" must be ${kind}, got ${describe(value)}`);
    }
  }
  return body as Fields<S>;
}
