// `--format` templates: the subset of Go's text/template that docker users write, shared by
// `ps` and `inspect` (and later image and network inspect). No kept Go-template library for
// Node exists, so this is a small parser and evaluator: field paths (`.State.ExitCode`), string
// and number literals, pipelines (`.Name | upper`), {{if}} / {{range}} / {{with}} blocks with
// {{else}}, and docker's functions (json, index,
// printf, upper, lower, title, join, split, pad, truncate, len, println). `table` adds a header row and aligns
// the columns as docker's tabwriter does. Pure: no I/O.

/** A template that does not parse or cannot be executed; the CLI prints it and exits 1, as docker. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

type Operand =
  | { kind: "field"; path: string[]; text: string }
  | { kind: "literal"; value: unknown; text: string }
  | { kind: "pipe"; pipe: Pipeline; text: string };
type Cmd = { kind: "call"; name: string; args: Operand[]; text: string } | { kind: "operand"; operand: Operand; text: string };
type Pipeline = Cmd[];
type Action = { kind: "action"; pipe: Pipeline; col: number; line: number };
type Block = { kind: "if" | "range" | "with"; pipe: Pipeline; then: Node[]; else: Node[]; col: number; line: number };
type Node = { kind: "text"; text: string } | Action | Block;
/** What the scanner yields before blocks are nested: `{{if}}`, `{{else}}` and `{{end}}` as markers. */
type Flat = { kind: "text"; text: string } | Action | { kind: "ctl"; word: "if" | "range" | "with" | "else" | "end"; pipe?: Pipeline; col: number; line: number };

export interface Template {
  nodes: Node[];
  /** The template started with `table`: print a header row and align the columns. */
  table: boolean;
}

const FUNCS: Record<string, (...args: unknown[]) => unknown> = {
  json: (v) => JSON.stringify(v ?? null),
  upper: (s) => display(s).toUpperCase(),
  lower: (s) => display(s).toLowerCase(),
  title: (s) => display(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  join: (list, sep) => (Array.isArray(list) ? list.map(display).join(display(sep)) : display(list)),
  split: (s, sep) => display(s).split(display(sep)),
  // docker's own two: spaces before and after, and the first n characters.
  pad: (s, before, after) => `${" ".repeat(count(before))}${display(s)}${" ".repeat(count(after))}`,
  truncate: (s, n) => [...display(s)].slice(0, count(n)).join(""),
  len: (v) => (Array.isArray(v) || typeof v === "string" ? v.length : v && typeof v === "object" ? Object.keys(v).length : 0),
  index: (v, ...keys) => keys.reduce((cur, k) => indexOf(cur, k), v),
  printf: (fmt, ...args) => printf(display(fmt), args),
  print: (...args) => args.map(display).join(""),
  println: (...args) => `${args.map(display).join(" ")}\n`,
};

function count(n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new TemplateError(`wrong type for value; expected int; got ${typeName(n)}`);
  return n;
}

function indexOf(v: unknown, key: unknown): unknown {
  if (Array.isArray(v)) {
    if (typeof key !== "number" || key < 0 || key >= v.length) throw new TemplateError(`error calling index: index out of range: ${display(key)}`);
    return v[key];
  }
  if (v && typeof v === "object") return (v as Record<string, unknown>)[String(key)] ?? "";
  throw new TemplateError(`error calling index: can't index item of type ${typeName(v)}`);
}

/** Parses a --format value. A leading `table` asks for headers; `\t` and `\n` are tabs and newlines, as in docker. */
export function parseTemplate(source: string): Template {
  let text = source;
  const table = /^table(\s|$)/.test(text);
  if (table) text = text.slice("table".length);
  text = (table ? text.trim() : text).replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  return { nodes: nest(scan(text)), table };
}

/** {{if P}}, {{range P}} and {{with P}} open a block, {{else}} splits it, {{end}} closes it. */
function nest(flat: Flat[]): Node[] {
  let i = 0;
  const fail = (t: { line: number }, what: string): never => {
    throw new TemplateError(`template: :${t.line}: ${what}`);
  };
  const block = (inside: boolean): { nodes: Node[]; end?: "else" | "end" } => {
    const nodes: Node[] = [];
    while (i < flat.length) {
      const t = flat[i++]!;
      if (t.kind !== "ctl") {
        nodes.push(t);
        continue;
      }
      if (t.word === "else" || t.word === "end") {
        if (!inside) fail(t, `unexpected {{${t.word}}}`);
        return { nodes, end: t.word };
      }
      const then = block(true);
      let otherwise: Node[] = [];
      if (then.end === "else") {
        const rest = block(true);
        if (rest.end !== "end") fail(t, `unexpected EOF: {{${t.word}}} has no {{end}}`);
        otherwise = rest.nodes;
      } else if (then.end !== "end") fail(t, `unexpected EOF: {{${t.word}}} has no {{end}}`);
      nodes.push({ kind: t.word, pipe: t.pipe!, then: then.nodes, else: otherwise, col: t.col, line: t.line });
    }
    return { nodes };
  };
  return block(false).nodes;
}

function scan(text: string): Flat[] {
  const nodes: Flat[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("{{", i);
    if (open < 0) {
      nodes.push({ kind: "text", text: text.slice(i) });
      break;
    }
    let lead = text.slice(i, open);
    let start = open + 2;
    if (text[start] === "-" && /\s/.test(text[start + 1] ?? "")) {
      lead = lead.trimEnd();
      start++;
    }
    if (lead) nodes.push({ kind: "text", text: lead });
    const close = text.indexOf("}}", start);
    const before = text.slice(0, open);
    const line = before.split("\n").length;
    const col = open - before.lastIndexOf("\n") + 1; // Go counts from 0, at the action's first byte
    if (close < 0) throw new TemplateError(`template: :${line}: unclosed action`);
    let body = text.slice(start, close);
    i = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      while (i < text.length && /\s/.test(text[i]!)) i++;
    }
    const ctl = /^\s*(if|range|with|else|end)\b([\s\S]*)$/.exec(body);
    if (!ctl) nodes.push({ kind: "action", pipe: parsePipeline(new Lexer(body, line)), col, line });
    else {
      const word = ctl[1] as "if" | "range" | "with" | "else" | "end";
      const opens = word === "if" || word === "range" || word === "with";
      if (!opens && ctl[2]!.trim() !== "") throw new TemplateError(`template: :${line}: {{${word}}} takes nothing after it (no {{else if}}: nest an {{if}})`);
      nodes.push(opens ? { kind: "ctl", word, pipe: parsePipeline(new Lexer(ctl[2]!, line)), col, line } : { kind: "ctl", word, col, line });
    }
  }
  return nodes;
}

class Lexer {
  private pos = 0;
  constructor(private readonly src: string, private readonly line: number) {}

  fail(what: string): never {
    throw new TemplateError(`template: :${this.line}: ${what}`);
  }

  peek(): string | undefined {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
    return this.src[this.pos];
  }

  take(): string {
    this.peek();
    const s = this.src.slice(this.pos);
    const m = /^("(?:[^"\\]|\\.)*"|`[^`]*`|\.(?:[A-Za-z_]\w*)?(?:\.[A-Za-z_]\w*)*|-?\d+(?:\.\d+)?|[A-Za-z_]\w*|[|()])/.exec(s);
    if (!m) this.fail(s.length ? `unexpected ${JSON.stringify(s[0])} in command` : "missing value for command");
    this.pos += m[0].length;
    return m[0];
  }
}

function parsePipeline(lex: Lexer, inParens = false): Pipeline {
  const cmds: Cmd[] = [];
  for (;;) {
    cmds.push(parseCmd(lex));
    const next = lex.peek();
    if (next === "|") lex.take();
    else if (next === ")" && inParens) break;
    else if (next === undefined) break;
    else lex.fail(`unexpected ${JSON.stringify(next)} in command`);
  }
  return cmds;
}

function parseCmd(lex: Lexer): Cmd {
  const first = lex.peek();
  if (first === undefined || first === "|" || first === ")") lex.fail("missing value for command");
  if (/[A-Za-z_]/.test(first)) {
    const name = lex.take();
    if (name === "true" || name === "false") return { kind: "operand", operand: { kind: "literal", value: name === "true", text: name }, text: name };
    if (!(name in FUNCS)) lex.fail(`function "${name}" not defined`);
    const args: Operand[] = [];
    while (![undefined, "|", ")"].includes(lex.peek())) args.push(parseOperand(lex));
    return { kind: "call", name, args, text: [name, ...args.map((a) => a.text)].join(" ") };
  }
  const operand = parseOperand(lex);
  if (![undefined, "|", ")"].includes(lex.peek())) lex.fail(`can't give argument to non-function ${operand.text}`);
  return { kind: "operand", operand, text: operand.text };
}

function parseOperand(lex: Lexer): Operand {
  const tok = lex.take();
  if (tok === "(") {
    const pipe = parsePipeline(lex, true);
    if (lex.take() !== ")") lex.fail("unclosed left paren");
    return { kind: "pipe", pipe, text: `(${pipe.map((c) => c.text).join(" | ")})` };
  }
  if (tok.startsWith(".")) return { kind: "field", path: tok === "." ? [] : tok.slice(1).split("."), text: tok };
  if (tok.startsWith('"')) return { kind: "literal", value: JSON.parse(tok), text: tok };
  if (tok.startsWith("`")) return { kind: "literal", value: tok.slice(1, -1), text: tok };
  if (/^-?\d/.test(tok)) return { kind: "literal", value: Number(tok), text: tok };
  if (/^[A-Za-z_]/.test(tok) && tok in FUNCS) return { kind: "pipe", pipe: [{ kind: "call", name: tok, args: [], text: tok }], text: tok };
  return lex.fail(`unexpected ${JSON.stringify(tok)} in operand`);
}

/** Renders one record. `typeName` names the record in errors, as Go names the type. */
export function execute(t: Template, data: unknown, typeName = "context"): string {
  return run(t.nodes, data, typeName);
}

function run(nodes: Node[], dot: unknown, context: string): string {
  let out = "";
  for (const n of nodes) {
    if (n.kind === "text") out += n.text;
    else if (n.kind === "action") out += display(runPipe(n.pipe, dot, { node: n, typeName: context }));
    else {
      const v = runPipe(n.pipe, dot, { node: n, typeName: context });
      if (n.kind === "if") out += run(truthy(v) ? n.then : n.else, dot, context);
      else if (n.kind === "with") out += truthy(v) ? run(n.then, v, typeName(v)) : run(n.else, dot, context);
      else {
        const items = Array.isArray(v) ? v : v !== null && typeof v === "object" ? Object.keys(v).sort().map((k) => (v as Record<string, unknown>)[k]) : [];
        out += items.length ? items.map((item) => run(n.then, item, typeName(item))).join("") : run(n.else, dot, context);
      }
    }
  }
  return out;
}

/** Go's truth: false, 0, nil, and an empty string, list or map are false. */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

interface Where {
  node: { line: number; col: number };
  typeName: string;
}

function runPipe(pipe: Pipeline, dot: unknown, where: Where): unknown {
  let result: unknown;
  pipe.forEach((cmd, i) => {
    const piped = i > 0 ? [result] : [];
    if (cmd.kind === "operand") {
      if (i > 0) fail(where, cmd.text, `can't give argument to non-function ${cmd.text}`);
      result = evalOperand(cmd.operand, dot, where);
      return;
    }
    const args = [...cmd.args.map((a) => evalOperand(a, dot, where)), ...piped];
    try {
      result = FUNCS[cmd.name]!(...args);
    } catch (err) {
      if (err instanceof TemplateError && !err.message.startsWith("template:")) fail(where, cmd.text, err.message);
      throw err;
    }
  });
  return result;
}

function evalOperand(op: Operand, dot: unknown, where: Where): unknown {
  if (op.kind === "literal") return op.value;
  if (op.kind === "pipe") return runPipe(op.pipe, dot, where);
  let cur = dot;
  let type = where.typeName;
  for (const key of op.path) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur) || !Object.hasOwn(cur, key)) {
      fail(where, op.text, `can't evaluate field ${key} in type ${cur === dot ? type : typeName(cur)}`);
    }
    cur = (cur as Record<string, unknown>)[key];
    type = key;
  }
  return cur;
}

function fail(where: Where, at: string, what: string): never {
  throw new TemplateError(`template: :${where.node.line}:${where.node.col}: executing "" at <${at}>: ${what}`);
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return "[]interface {}";
  if (typeof v === "object") return "map[string]interface {}";
  return typeof v === "number" ? (Number.isInteger(v) ? "int" : "float64") : typeof v === "boolean" ? "bool" : "string";
}

/** A value as Go's %v prints it: maps as map[k:v] (keys sorted), lists as [a b], nil as <nil>. */
export function display(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(display).join(" ")}]`;
  if (typeof v === "object") {
    if (v.toString !== Object.prototype.toString) return String(v);
    return `map[${Object.keys(v).sort().map((k) => `${k}:${display((v as Record<string, unknown>)[k])}`).join(" ")}]`;
  }
  return String(v);
}

/** Go's fmt verbs that templates use: %s %v %d %q %t %x %f %%, with flags `-` `0` `+`, width and precision. */
export function printf(format: string, args: unknown[]): string {
  let n = 0;
  const out = format.replace(/%([-+0 #]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (_m, flags: string, width?: string, prec?: string, verb?: string) => {
    if (verb === "%") return "%";
    if (n >= args.length) return `%!${verb}(MISSING)`;
    const arg = args[n++];
    let s: string;
    switch (verb) {
      case "s": case "v": s = display(arg); if (prec !== undefined) s = s.slice(0, Number(prec)); break;
      case "q": s = JSON.stringify(display(arg)); break;
      case "d": s = typeof arg === "number" ? String(Math.trunc(arg)) : `%!d(${typeName(arg)}=${display(arg)})`; break;
      case "t": s = display(arg); break;
      case "x": s = typeof arg === "number" ? Math.trunc(arg).toString(16) : Buffer.from(display(arg)).toString("hex"); break;
      case "f": s = typeof arg === "number" ? arg.toFixed(prec === undefined ? 6 : Number(prec)) : `%!f(${typeName(arg)}=${display(arg)})`; break;
      default: s = `%!${verb}(${typeName(arg)}=${display(arg)})`;
    }
    if (flags.includes("+") && typeof arg === "number" && arg >= 0 && (verb === "d" || verb === "f")) s = `+${s}`;
    const w = width === undefined ? 0 : Number(width);
    if (s.length >= w) return s;
    if (flags.includes("-")) return s.padEnd(w);
    return flags.includes("0") && typeof arg === "number" ? s.padStart(w, "0") : s.padStart(w);
  });
  return n < args.length ? `${out}%!(EXTRA ${args.slice(n).map((a) => `${typeName(a)}=${display(a)}`).join(", ")})` : out;
}

/**
 * A table's header row: each action shows the header of the first field it names (`headers`
 * maps a field to docker's column name; others are upper-cased), as docker's header context does.
 */
export function header(t: Template, headers: Record<string, string>): string {
  return t.nodes.map((n) => {
    if (n.kind === "text") return n.text;
    const field = firstField(n.pipe);
    if (field === undefined) return "";
    return headers[field] ?? field.replace(/([a-z])([A-Z])/g, "$1 $2").toUpperCase();
  }).join("");
}

function firstField(pipe: Pipeline): string | undefined {
  for (const cmd of pipe) {
    const ops = cmd.kind === "operand" ? [cmd.operand] : cmd.args;
    for (const op of ops) {
      if (op.kind === "field") return op.path[0] ?? "";
      if (op.kind === "pipe") {
        const f = firstField(op.pipe);
        if (f !== undefined) return f;
      }
    }
  }
  return undefined;
}

/**
 * Aligns tab-separated cells as docker's tabwriter (minwidth 10, padding 3, blanks): each cell
 * ended by a tab is padded to its column's widest cell + 3, and at least 10; the last is not.
 */
export function tabwrite(lines: string[]): string[] {
  const rows = lines.map((l) => l.split("\t"));
  const widths: number[] = [];
  for (const r of rows) r.slice(0, -1).forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 10, c.length + 3)));
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join("").trimEnd());
}

/** Renders records through a template: one line each, after a header row for a `table` template. */
export function render(source: string, records: unknown[], headers: Record<string, string> = {}, typeName?: string): string[] {
  const t = parseTemplate(source);
  const lines = records.map((r) => execute(t, r, typeName));
  if (!t.table) return lines;
  return tabwrite([header(t, headers), ...lines].flatMap((l) => l.split("\n")));
}
