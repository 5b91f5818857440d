// The --format template engine (src/cli/template.ts): Go's text/template as docker users write it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { display, printf, render, tabwrite, TemplateError } from "../src/cli/template.js";

const c = { ID: "web", Names: "web", State: { ExitCode: 3, Status: "exited", Running: false }, Config: { Labels: { team: "a", "com.x": "y" }, Cmd: ["sh", "-c", "x"] }, Name: "/web" };
const one = (src: string, data: unknown = c) => render(src, [data], {}, "*formatter.ContainerContext")[0];

test("field paths print values as Go's %v", () => {
  assert.is(one("{{.State.ExitCode}}"), "3");
  assert.is(one("{{.Name}} is {{.State.Status}}"), "/web is exited");
  assert.is(one("{{.State.Running}}"), "false");
  assert.is(one("{{.Config.Cmd}}"), "[sh -c x]");
  assert.is(one("{{.Config.Labels}}"), "map[com.x:y team:a]");
  assert.is(one("{{.}}", { a: null }), "map[a:<nil>]");
  assert.is(one("no actions"), "no actions");
});

test("json, index, upper, lower, title, join, split, pad, truncate, len and pipelines", () => {
  assert.is(one("{{json .State}}"), '{"ExitCode":3,"Status":"exited","Running":false}');
  assert.is(one("{{json .Config.Labels}}"), '{"team":"a","com.x":"y"}');
  assert.is(one('{{index .Config.Labels "team"}}'), "a");
  assert.is(one('{{index .Config.Labels "com.x"}}'), "y");
  assert.is(one('{{index .Config.Labels "missing"}}'), "");
  assert.is(one("{{index .Config.Cmd 1}}"), "-c");
  assert.is(one("{{upper .ID}} {{lower \"ABC\"}} {{title \"hello world\"}}"), "WEB abc Hello World");
  assert.is(one('{{join .Config.Cmd ","}}'), "sh,-c,x");
  assert.is(one('{{len (split "a:b:c" ":")}}'), "3");
  assert.is(one("{{.ID | upper}}"), "WEB");
  assert.is(one('[{{pad .ID 2 1}}] [{{truncate .Name 3}}] [{{truncate .ID 10}}]'), "[  web ] [/we] [web]");
  assert.throws(() => one('{{pad .ID "x" 1}}'), /^template: :1:2: executing "" at <pad \.ID "x" 1>: wrong type for value; expected int; got string$/);
  assert.is(one("{{- .ID -}}  !"), "web!");
});

test("printf: verbs, widths, flags, missing and extra arguments", () => {
  assert.is(one('{{printf "%s=%d" .ID .State.ExitCode}}'), "web=3");
  assert.is(one('{{printf "%-6s|%4d|%04d" .ID 7 7}}'), "web   |   7|0007");
  assert.is(printf("%q %v %.2f %x %%", ["a", true, 1.005, 255]), '"a" true 1.00 ff %');
  assert.is(printf("%s %s", ["a"]), "a %!s(MISSING)");
  assert.is(printf("%s", ["a", 1]), "a%!(EXTRA int=1)");
  assert.is(printf("%d", ["x"]), "%!d(string=x)");
});

test("an unknown field is docker's error: template: :LINE:COL: executing at <.X>: can't evaluate field X", () => {
  const err = (src: string) => {
    try {
      one(src);
    } catch (e) {
      assert.instance(e, TemplateError);
      return (e as Error).message;
    }
    throw new Error(`${src} rendered`);
  };
  assert.is(err("{{.Nope}}"), 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext');
  assert.is(err("x {{.State.Nope}}"), 'template: :1:4: executing "" at <.State.Nope>: can\'t evaluate field Nope in type map[string]interface {}');
  assert.match(err("{{nosuch .ID}}"), /^template: :1: function "nosuch" not defined$/);
  assert.match(err("{{.ID"), /unclosed action/);
  assert.match(err("{{.ID .Name}}"), /can't give argument to non-function \.ID/);
  assert.match(err("{{index .ID 1}}"), /error calling index: can't index item of type string/);
});

test("table: a header row from docker's column names, and tabwriter's alignment (min 10, padding 3)", () => {
  const rows = [{ ID: "a", Status: "running", CreatedAt: "x" }, { ID: "long-container-name", Status: "exited (0)", CreatedAt: "y" }];
  assert.equal(render("table {{.ID}}\\t{{.Status}}\\t{{.CreatedAt}}", rows, { ID: "CONTAINER ID" }), [
    "CONTAINER ID          STATUS       CREATED AT",
    "a                     running      x",
    "long-container-name   exited (0)   y",
  ]);
  assert.equal(render("table {{.ID}}", []), ["ID"]);
  assert.equal(render("{{.ID}}\\t{{.Status}}", rows), ["a\trunning", "long-container-name\texited (0)"]);
  assert.equal(tabwrite(["a\tb", "ccc\td"]), ["a         b", "ccc       d"]);
});

test("if, range and with blocks, with else, as Go's: truth, dot inside, maps in key order", () => {
  const d = { Mounts: [{ Source: "/a", RW: true }, { Source: "/b", RW: false }], Empty: [], Labels: { b: "2", a: "1" }, State: { Error: "" } };
  assert.is(one("{{range .Mounts}}{{.Source}}{{if .RW}}(rw){{else}}(ro){{end}} {{end}}", d), "/a(rw) /b(ro) ");
  assert.is(one("{{range .Empty}}x{{else}}none{{end}}", d), "none");
  assert.is(one("{{range .Labels}}{{.}},{{end}}", d), "1,2,");
  assert.is(one("{{with .State}}[{{.Error}}]{{end}}", d), "[]");
  assert.is(one("{{if .State.Error}}failed{{else}}ok{{end}}", d), "ok");
  assert.is(one("{{if .Empty}}y{{end}}|{{if 0}}y{{end}}|{{if \"x\"}}y{{end}}", d), "||y");
  assert.is(one("{{range .Mounts -}} {{.Source}} {{- end}}", d), "/a/b");
  const bad = (src: string) => assert.throws(() => one(src, d), /^template: :1: /);
  bad("{{if .Empty}}x");
  bad("{{end}}");
  bad("{{if .Empty}}x{{else if .Labels}}y{{end}}");
  assert.throws(() => one("{{range .Mounts}}{{.Nope}}{{end}}", d), /can't evaluate field Nope in type map\[string\]interface \{\}/);
});

test("display follows Go's %v for values without a template", () => {
  assert.is(display(undefined), "<nil>");
  assert.is(display([1, "a", [true]]), "[1 a [true]]");
  assert.is(display({ toString: () => "k=v" }), "k=v");
});

test.run();
