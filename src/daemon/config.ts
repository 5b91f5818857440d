// The daemon's config file (`berth daemon --config FILE`, else `<root>/daemon.json` when it
// exists): a JSON object whose keys mirror the daemon's flags, so secrets such as the NATS
// password live in a 0600 file instead of a command line that `ps` shows. This module is pure:
// the text in, the options or an `invalidArgument` naming the key and the file out; main.ts
// reads the file and merges it under the flags (a flag wins, key by key).
import { dirname, resolve } from "node:path";
import { BerthError } from "../model/errors.js";
import { DRIVER_NAMES, type DriverName } from "../vm/driver.js";
import { parseServers } from "../fleet/nats.js";

export interface ShipFileOptions {
  /** The NATS servers, joined with commas (the file may give a string or an array). */
  servers?: string;
  node?: string;
  user?: string;
  password?: string;
  token?: string;
  /** Paths, absolute: relative ones in the file resolve against the file's directory. */
  ca?: string;
  nkey?: string;
  creds?: string;
  /** `--ship-redact-env`: env values ship as <redacted> (src/fleet/redact.ts). */
  redactEnv?: boolean;
}

export interface DaemonFileOptions {
  driver?: DriverName;
  sync?: "full" | "normal";
  acceptJournalLoss?: boolean;
  /** A container log config ({ driver, maxSizeBytes, maxFiles }), checked by the daemon at start. */
  log?: Record<string, unknown>;
  defaultNetwork?: string;
  registriesConf?: string;
  ship?: ShipFileOptions;
}

export type ConfigResult = { ok: true; options: DaemonFileOptions } | { ok: false; error: BerthError };

/** The keys that hold secrets: a file holding one should not be readable by others. */
export const SECRET_KEYS = ["password", "token"] as const;

type Kind =
  | { type: "string" | "boolean" | "number" | "path" | "servers" }
  | { type: "enum"; values: readonly string[] }
  | { type: "object"; keys: Schema };
type Schema = Record<string, Kind>;

const str = { type: "string" } as const;
const path = { type: "path" } as const;

const SCHEMA: Schema = {
  driver: { type: "enum", values: DRIVER_NAMES },
  sync: { type: "enum", values: ["full", "normal"] },
  acceptJournalLoss: { type: "boolean" },
  log: { type: "object", keys: { driver: str, maxSizeBytes: { type: "number" }, maxFiles: { type: "number" } } },
  defaultNetwork: str,
  registriesConf: path,
  ship: { type: "object", keys: { servers: { type: "servers" }, node: str, user: str, password: str, token: str, ca: path, nkey: path, creds: path, redactEnv: { type: "boolean" } } },
};

/** `file` is the file's absolute path: it names the file in errors and anchors relative paths. */
export function parseDaemonConfig(text: string, file: string): ConfigResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return refuse(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const checked = check(json, { type: "object", keys: SCHEMA }, "", { file, dir: dirname(file) });
  return checked.ok ? { ok: true, options: checked.value as DaemonFileOptions } : refuse(checked.message);
}

const refuse = (message: string): ConfigResult => ({ ok: false, error: new BerthError("invalidArgument", message) });

type Checked = { ok: true; value: unknown } | { ok: false; message: string };

/** The value, normalised (paths resolved, servers joined), or the message refusing it. */
function check(value: unknown, kind: Kind, key: string, at: { file: string; dir: string }): Checked {
  const where = key === "" ? at.file : `"${key}" in ${at.file}`;
  const ok = (v: unknown): Checked => ({ ok: true, value: v });
  const wrong = (expected: string): Checked => ({ ok: false, message: `${where} must be ${expected}, not ${JSON.stringify(value)}` });
  switch (kind.type) {
    case "string":
      return typeof value === "string" ? ok(value) : wrong("a string");
    case "boolean":
      return typeof value === "boolean" ? ok(value) : wrong("true or false");
    case "number":
      return typeof value === "number" && Number.isFinite(value) ? ok(value) : wrong("a number");
    case "path":
      return typeof value === "string" && value !== "" ? ok(resolve(at.dir, value)) : wrong("a file path");
    case "enum":
      return typeof value === "string" && kind.values.includes(value) ? ok(value) : wrong(kind.values.map((v) => `"${v}"`).join(" or "));
    case "servers": {
      const list = typeof value === "string" ? [value] : Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : undefined;
      if (!list) return wrong("a NATS URL or an array of them");
      try {
        return ok(parseServers(list.join(",")).join(","));
      } catch (err) {
        return { ok: false, message: `${where}: ${(err as Error).message}` };
      }
    }
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return key === "" ? { ok: false, message: `${at.file} must hold a JSON object` } : wrong("an object");
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const name = key === "" ? k : `${key}.${k}`;
        // Own keys only: "constructor" or "__proto__" must be unknown keys, not Object's.
        const sub = Object.hasOwn(kind.keys, k) ? kind.keys[k] : undefined;
        if (!sub) return { ok: false, message: `unknown key "${name}" in ${at.file}: expected ${Object.keys(kind.keys).join(", ")}` };
        const r = check(v, sub, name, at);
        if (!r.ok) return r;
        out[k] = r.value;
      }
      return ok(out);
    }
  }
}

/** A flag wins over the file, key by key (also inside `ship`): `undefined` means "not given". */
export function mergeOptions(file: DaemonFileOptions, flags: DaemonFileOptions): DaemonFileOptions {
  const ship = file.ship || flags.ship ? { ...defined(file.ship ?? {}), ...defined(flags.ship ?? {}) } : undefined;
  return { ...defined(file), ...defined(flags), ...(ship ? { ship } : {}) };
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
