// Output and input formats shared by the CLI commands: tables, sizes, times and durations.
// Pure functions: no I/O, so the tests and docs can rely on them.
import { BerthError } from "../model/errors.js";

export type OutputFormat = "table" | "json";

export function parseFormat(value: unknown): OutputFormat {
  if (value === undefined || value === "table") return "table";
  if (value === "json") return "json";
  throw new BerthError("invalidArgument", `unknown --format ${JSON.stringify(value)}: expected table or json`);
}

/** Left-aligned columns separated by three spaces, as docker prints them. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("   ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** "64m", "1g", "512k", "1048576" → bytes (binary units, as docker). */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new BerthError("invalidArgument", `invalid size "${text}": expected a number with an optional unit b, k, m or g (e.g. 64m)`);
  return Math.round(Number(m[1]) * unit);
}

/** docker's human sizes: 1000-based for I/O ("1.2MB"), 1024-based for memory ("1.2MiB"). */
export function humanBytes(n: number, binary = false): string {
  const base = binary ? 1024 : 1000;
  const units = binary ? ["B", "KiB", "MiB", "GiB", "TiB"] : ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)}${units[i]}`;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "10m", "1h30m", "45s", "500ms" → milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, num, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(num) * DURATION_UNITS[unit!]!;
  return total;
}

/** A point in time as users write it: RFC 3339, Unix seconds, or a duration ago ("10m"). Returns ms. */
export function parseTime(text: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new BerthError("invalidArgument", `invalid time "${text}": expected RFC 3339 (2024-05-01T12:00:00Z), Unix seconds, or a duration ago (10m)`);
}

/** A journal bound: "@POS" is a position, anything else a time. */
export type Bound = { position: number } | { time: number };

export function parseBound(text: string, now = Date.now()): Bound {
  if (text.startsWith("@")) {
    const pos = text.slice(1);
    if (!/^\d+$/.test(pos)) throw new BerthError("invalidArgument", `invalid position "${text}": expected @ followed by a journal position (e.g. @42)`);
    return { position: Number(pos) };
  }
  return { time: parseTime(text, now) };
}

export const iso = (ms: number | undefined | null): string | null => (ms === undefined || ms === null ? null : new Date(ms).toISOString());

/** "3 seconds ago", "2 minutes ago": the CREATED column. */
export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  const [n, unit] = s < 60 ? [s, "second"] : s < 3600 ? [Math.floor(s / 60), "minute"] : s < 86400 ? [Math.floor(s / 3600), "hour"] : [Math.floor(s / 86400), "day"];
  return `${n} ${unit}${n === 1 ? "" : "s"} ago`;
}

/** Quotes an argument the way a shell would need it, for COMMAND columns and history lines. */
export function shellQuote(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
