// The everyday commands a docker user types first, through the real `berth` binary and a real
// daemon (runc under conmon): golden output (column names, their order, the rows' order) and
// the exit codes docs/cli.md lists, compared with docker's documented formats.
import { test } from "uvu";
import * as assert from "uvu/assert";
import fs from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { berth, ensureBuilt, repo, waitFor, withDaemon } from "./helpers/cli-env.js";
import { journalEvents } from "./helpers/daemon.js";

const ok = async (root: string, args: string[], code = 0) => {
  const r = await berth(root, args);
  assert.is(r.code, code, `berth ${args.join(" ")}: ${r.stderr}`);
  return r;
};
const columns = (header: string) => header.split(/\s{3,}/);

test("ps: docker's columns, newest first, paused listed, filters by name/label/status, -n, -l, -s, --format", () =>
  withDaemon(async (root) => {
    await ok(root, ["run", "-d", "--name", "web1", "--label", "team=a", "busybox", "sleep", "1000"]);
    await ok(root, ["run", "-d", "--name", "web2", "--label", "team=b", "busybox", "sleep", "1000"]);
    await ok(root, ["run", "--name", "job", "--label", "team=a", "busybox", "sh", "-c", "echo x > /f; exit 3"], 3);
    await ok(root, ["create", "--name", "fresh", "busybox", "true"]);
    await ok(root, ["pause", "web2"]);

    const ps = (await ok(root, ["ps"])).stdout.trimEnd().split("\n");
    assert.equal(columns(ps[0]!), ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]);
    assert.equal(ps.slice(1).map((l) => l.split(/\s+/)[0]), ["web2", "web1"], "running and paused, newest first");
    assert.match(ps[1]!, /busybox\s+"sleep 1000"\s+(\d+ seconds?|Less than a second) ago\s+Up .* \(Paused\)\s+web2$/, ps[1]);
    assert.ok(ps.every((l) => l.length === 0 || !l.includes("\t")), "aligned with blanks, as tabwriter");

    const all = (await ok(root, ["ps", "-a", "--format", "{{.Names}} {{.State}} {{.Status}}"])).stdout.trimEnd().split("\n");
    assert.is(all.length, 4);
    assert.equal(all.map((l) => l.split(" ").slice(0, 2).join(" ")), ["fresh created", "job exited", "web2 paused", "web1 running"]);
    assert.match(all[1]!, /^job exited Exited \(3\) .* ago$/);

    const q = async (...args: string[]) => (await ok(root, ["ps", "-q", ...args])).stdout.trim().split("\n").filter(Boolean);
    assert.equal(await q("--filter", "label=team=a"), ["web1"]);
    assert.equal(await q("-a", "--filter", "label=team=a"), ["job", "web1"]);
    assert.equal(await q("-a", "--filter", "label=team"), ["job", "web2", "web1"]);
    assert.equal(await q("--filter", "name=web"), ["web2", "web1"]);
    assert.equal(await q("--filter", "name=web", "--filter", "label=team=b"), ["web2"], "different keys AND");
    assert.equal(await q("--filter", "status=exited", "--filter", "status=created"), ["fresh", "job"], "one key ORs");
    assert.equal(await q("--filter", "status=paused"), ["web2"]);
    assert.equal(await q("-n", "2"), ["fresh", "job"], "-n counts every status");
    assert.equal(await q("-l"), ["fresh"]);

    const sized = (await ok(root, ["ps", "-a", "-s", "--filter", "name=job"])).stdout.trimEnd().split("\n");
    assert.equal(columns(sized[0]!), ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES", "SIZE"]);
    assert.match(sized[1]!, /\s2B$/, "the writable layer holds /f (2 bytes)");

    const table = (await ok(root, ["ps", "-a", "--format", "table {{.Names}}\\t{{.Image}}\\t{{index .Labels \"team\"}}"])).stdout;
    assert.is(table, [
      "NAMES     IMAGE     LABELS",
      "fresh     busybox",
      "job       busybox   a",
      "web2      busybox   b",
      "web1      busybox   a",
      "",
    ].join("\n"));
    assert.is((await ok(root, ["ps", "--filter", "name=web1", "--format", "{{.Labels}}"])).stdout, "team=a\n");
    assert.is((await ok(root, ["ps", "-a", "--filter", "name=job", "--format", "{{.Command}}"])).stdout, '"sh -c \'echo x > /f;…"\n');
    assert.is((await ok(root, ["ps", "-a", "--no-trunc", "--filter", "name=job", "--format", "{{.Command}}"])).stdout, '"sh -c \'echo x > /f; exit 3\'"\n');
    assert.is((await ok(root, ["ps", "--filter", "name=web1", "--format", "{{json .Names}} {{upper .State}}"])).stdout, '"web1" RUNNING\n');

    const bad = await berth(root, ["ps", "--format", "{{.Nope}}"]);
    assert.is(bad.code, 1);
    assert.is(bad.stderr, 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext\n');
    const badFilter = await berth(root, ["ps", "--filter", "color=red"]);
    assert.is(badFilter.code, 125);
    assert.match(badFilter.stderr, /^berth: invalidArgument: invalid --filter "color=red"/);
    await ok(root, ["unpause", "web2"]);
  }));

test("inspect -f: docker's template over docker's field names; JSON stays the default", () =>
  withDaemon(async (root) => {
    await ok(root, ["run", "--name", "x", "--label", "team=a", "busybox", "sh", "-c", "exit 3"], 3);
    await ok(root, ["run", "-d", "--name", "y", "busybox", "sleep", "1000"]);
    assert.is((await ok(root, ["inspect", "-f", "{{.State.ExitCode}}", "x"])).stdout, "3\n");
    assert.is((await ok(root, ["inspect", "--format", "{{.Name}} {{.State.Status}} {{.State.Running}} {{index .Config.Labels \"team\"}}", "x", "y"])).stdout, "/x exited false a\n/y running true \n");
    assert.match((await ok(root, ["inspect", "-f", "{{.State.Pid}}", "y"])).stdout, /^[1-9]\d*\n$/);
    assert.is((await ok(root, ["inspect", "-f", "{{json .Config.Cmd}} {{join .Args \",\"}} {{.Path}}", "x"])).stdout, '["sh","-c","exit 3"] -c,exit 3 sh\n');
    assert.is(JSON.parse((await ok(root, ["inspect", "x"])).stdout)[0].exitCode, 3);
    assert.is((await ok(root, ["inspect", "-f", "{{range .Config.Cmd}}[{{.}}]{{end}} {{if .State.Running}}up{{else}}down{{end}}", "x"])).stdout, "[sh][-c][exit 3] down\n");

    const bad = await berth(root, ["inspect", "-f", "{{.State.Nope}}", "x"]);
    assert.is(bad.code, 1);
    assert.is(bad.stderr, 'template: :1:2: executing "" at <.State.Nope>: can\'t evaluate field Nope in type map[string]interface {}\n');
    const missing = await berth(root, ["inspect", "-f", "{{.Name}}", "x", "ghost"]);
    assert.is(missing.code, 125);
    assert.is(missing.stdout, "/x\n");
    assert.match(missing.stderr, /^berth: notFound: /);
    await ok(root, ["kill", "y"]);
  }));

test("version, info and system df: docker's shapes, berth's facts; version without a daemon prints the client and exits 125", () =>
  withDaemon(async (root) => {
    const pkg = JSON.parse(fs.readFileSync(join(repo, "package.json"), "utf8")) as { version: string };
    assert.is((await ok(root, ["--version"])).stdout, `${pkg.version}\n`);
    const version = (await ok(root, ["version"])).stdout.split("\n");
    assert.equal(version.filter((l) => /^\S/.test(l)), ["Client:", "Server: berth"]);
    assert.equal(version.filter((l) => /^ \S/.test(l)).map((l) => l.trim().split(":")[0]), ["Version", "Node version", "OS/Arch", "Engine", "runc", "conmon"]);
    assert.match(version.join("\n"), new RegExp(` Version: +${pkg.version.replace(/\./g, "\\.")}\n`));
    assert.match(version.join("\n"), / runc:\n  Version: +\d+\.\d+\.\d+/);
    assert.match(version.join("\n"), / conmon:\n  Version: +\d+\.\d+\.\d+/);
    assert.is((await ok(root, ["version", "--format", "{{.Server.Version}} {{.Client.Version}}"])).stdout, `${pkg.version} ${pkg.version}\n`);
    const down = await berth(join(root, "nothing-here"), ["version"]);
    assert.is(down.code, 125);
    assert.match(down.stdout, /^Client:\n Version: /);
    assert.not.match(down.stdout, /Server/);
    assert.match(down.stderr, /^berth: notFound: .*Is the daemon running/);

    await ok(root, ["run", "-d", "--name", "up", "busybox", "sleep", "1000"]);
    await ok(root, ["run", "-d", "--name", "held", "busybox", "sleep", "1000"]);
    await ok(root, ["pause", "held"]);
    await ok(root, ["run", "--name", "done", "busybox", "sh", "-c", "head -c 1500 /dev/zero > /blob"]);
    const info = (await ok(root, ["info"])).stdout;
    assert.equal(info.split("\n").filter((l) => /^ ?\S/.test(l)).map((l) => l.trim().split(":")[0]), [
      "Client", "Version", "Server", "Containers", "Images", "Server Version", "Storage Driver", "Default Runtime", "runc Version", "conmon Version", "Root Dir", "Daemon Pid", "Journal", "Orphans", "Fleet shipping",
    ]);
    assert.match(info, / Containers: 3\n  Running: 1\n  Paused: 1\n  Stopped: 1\n Images: 1\n/);
    assert.match(info, new RegExp(` Root Dir: ${root}\n`));
    assert.match(info, / Default Runtime: runc\n runc Version: \d+\.\d+\.\d+\S*\n conmon Version: \d+\.\d+\.\d+\n/);
    assert.match(info, /  Size: \d+(\.\d+)?[kM]?B\n  Head: position \d+, hash [0-9a-f]{12}\n  Status: ok\n/);
    assert.match(info, / Fleet shipping: off\n/);
    assert.is((await ok(root, ["system", "info", "--format", "{{.ContainersRunning}}/{{.ContainersPaused}}/{{.ContainersStopped}} {{.Runtimes.runc}}"])).stdout.split(" ")[0], "1/1/1");
    const head = JSON.parse((await ok(root, ["info", "--format", "json"])).stdout).journal.head.position;
    assert.ok(head > 0);

    const df = (await ok(root, ["system", "df"])).stdout.trimEnd().split("\n");
    assert.equal(columns(df[0]!), ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]);
    assert.equal(df.slice(1).map((l) => columns(l)[0]), ["Images", "Containers", "Local Volumes", "Build Cache", "Journal"]);
    assert.match(df[1]!, /^Images\s+1\s+1\s+[\d.]+[kM]B\s+0B \(0%\)$/);
    assert.match(df[2]!, /^Containers\s+3\s+2\s+1\.50kB\s+1\.50kB \(100%\)$/, df[2]);
    assert.is((await ok(root, ["system", "df", "--format", "{{.Type}}={{.TotalCount}}"])).stdout.split("\n")[1], "Containers=3");
    await ok(root, ["unpause", "held"]);
    await ok(root, ["kill", "up", "held"]);
  }));

test("top and port: ps -ef's columns for the container's processes only; ps options pass through; a stopped container is refused", () =>
  withDaemon(async (root) => {
    await ok(root, ["run", "-d", "--name", "t", "busybox", "sh", "-c", "sleep 1000 & sleep 2000"]);
    await waitFor("both sleeps", async () => (await ok(root, ["top", "t"])).stdout.includes("sleep 2000"));
    const top = (await ok(root, ["top", "t"])).stdout.trimEnd().split("\n");
    assert.equal(columns(top[0]!), ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]);
    assert.equal(top.slice(1).map((l) => l.replace(/^.*\d\d:\d\d:\d\d\s+/, "")).sort(), ["sleep 1000", "sleep 2000"], "busybox sh execs its last command");
    const custom = (await ok(root, ["top", "t", "-o", "pid,comm"])).stdout.trimEnd().split("\n");
    assert.equal(columns(custom[0]!.trim()), ["PID", "COMMAND"]);
    assert.equal(custom.slice(1).map((l) => l.trim().split(/\s+/)[1]).sort(), ["sleep", "sleep"]);
    const noPid = await berth(root, ["top", "t", "-o", "comm"]);
    assert.is(noPid.code, 125);
    assert.match(noPid.stderr, /no PID column/);
    // port: nothing is published yet, so an empty list; a named port is not published.
    assert.is((await ok(root, ["port", "t"])).stdout, "");
    const p80 = await berth(root, ["port", "t", "80"]);
    assert.is(p80.code, 125);
    assert.match(p80.stderr, /^berth: notFound: no public port '80\/tcp' published for t/);
    assert.is((await berth(root, ["port", "ghost"])).code, 125);
    await ok(root, ["kill", "t"]);
    await ok(root, ["wait", "t"], 137);
    const stopped = await berth(root, ["top", "t"]);
    assert.is(stopped.code, 125);
    assert.match(stopped.stderr, /^berth: invalidState: cannot list processes: container t is stopped, expected running or paused/);
    assert.is((await berth(root, ["top", "ghost"])).code, 125);
  }));

test("restart: stop then start through the journaled commands, a new init; a stopped one is only started; a missing one is 125", () =>
  withDaemon(async (root) => {
    await ok(root, ["run", "-d", "--name", "r", "busybox", "sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]);
    // Exits on its first run; started again, it finds /ran in its writable layer and stays up.
    await ok(root, ["run", "--name", "once", "busybox", "sh", "-c", "[ -f /ran ] && exec sleep 1000; touch /ran"]);
    const pid = async (id: string) => (await ok(root, ["inspect", "-f", "{{.State.Pid}}", id])).stdout.trim();
    const before = await pid("r");
    const r = await ok(root, ["restart", "-t", "5", "r", "once"]);
    assert.is(r.stdout, "r\nonce\n");
    assert.is((await ok(root, ["inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "r", "once"])).stdout, "running 0\nrunning 0\n");
    assert.is.not(await pid("r"), before, "a new init");
    const types = (await journalEvents(root)).filter((e) => e.streamId === "container-r").map((e) => e.type);
    const tail = types.slice(types.lastIndexOf("StopRequested"));
    assert.equal(tail.filter((t) => !["ProcessExited", "SignalSent"].includes(t)), [
      "StopRequested", "ContainerStopped", "ShutdownRequested", "ContainerShutdown", "BootstrapRequested", "ContainerBooted", "ProcessStartRequested", "ProcessStarted",
    ]);
    const once = (await journalEvents(root)).filter((e) => e.streamId === "container-once").map((e) => e.type);
    assert.is(once.filter((t) => t === "StopRequested").length, 0, "a stopped container is only started");

    const missing = await berth(root, ["restart", "ghost"]);
    assert.is(missing.code, 125);
    assert.match(missing.stderr, /^berth: notFound: /);
    const some = await berth(root, ["restart", "-t", "0", "ghost", "r"]);
    assert.is(some.code, 125);
    assert.is(some.stdout, "r\n");
    const bad = await berth(root, ["restart", "-t", "soon", "r"]);
    assert.is(bad.code, 125);
    assert.match(bad.stderr, /invalid -t "soon"/);
    await ok(root, ["kill", "r", "once"]);
  }));

test("rename: a journaled event with its actor; the id stays, the new name works everywhere, history follows; names stay unique", () =>
  withDaemon(async (root) => {
    await ok(root, ["run", "-d", "--name", "web", "busybox", "sleep", "1000"]);
    await ok(root, ["create", "--name", "other", "busybox", "true"]);
    const r = await ok(root, ["rename", "web", "api"]);
    assert.is(r.stdout, "");
    const ps = (await ok(root, ["ps", "--format", "{{.ID}} {{.Names}}"])).stdout;
    assert.is(ps, "web api\n");
    assert.is((await ok(root, ["inspect", "-f", "{{.Id}} {{.Name}} {{.State.Status}}", "api"])).stdout, "web /api running\n");
    assert.is((await ok(root, ["ps", "-q", "--filter", "name=api"])).stdout, "web\n");
    assert.is((await ok(root, ["ps", "-q", "--filter", "name=web"])).stdout, "", "the old name is gone");

    const taken = await berth(root, ["rename", "api", "other"]);
    assert.is(taken.code, 125);
    assert.match(taken.stderr, /^berth: exists: cannot rename web to other: the name is in use by container other/);
    const clash = await berth(root, ["create", "--name", "api", "busybox", "true"]);
    assert.is(clash.code, 125);
    assert.match(clash.stderr, /^berth: exists: cannot create: the name api is in use by container web/);
    const same = await berth(root, ["rename", "api", "api"]);
    assert.is(same.code, 125);
    assert.match(same.stderr, /^berth: invalidArgument: cannot rename: container web is already named api/);
    const ghost = await berth(root, ["rename", "ghost", "x"]);
    assert.is(ghost.code, 125);
    assert.match(ghost.stderr, /^berth: notFound: no such container: ghost/);
    assert.is((await berth(root, ["rename", "api", "bad/name"])).code, 125);

    await ok(root, ["stop", "-t", "1", "api"]);
    assert.is((await ok(root, ["wait", "api"], 137)).stdout, "137\n");
    const history = (await ok(root, ["history", "api"])).stdout;
    assert.match(history, /^history of api: \d+ events\n/);
    assert.match(history, /created from image busybox[\s\S]*init started \(pid \d+\)[\s\S]*renamed from web to api[\s\S]*stop requested/);
    const renamed = (await journalEvents(root)).filter((e) => e.type === "ContainerRenamed");
    assert.equal(renamed.map((e) => [e.streamId, e.data]), [["container-web", { from: "web", to: "api" }]]);
    assert.is(renamed[0]!.actor?.uid, process.getuid!());
    await ok(root, ["rename", "api", "web2"]);
    await ok(root, ["rm", "web2"]);
    assert.is((await ok(root, ["ps", "-a", "-q"])).stdout, "other\n");
  }));

test("system prune -f: deletes stopped and created containers only, in docker's output; without -f and a terminal it refuses", () =>
  withDaemon(async (root) => {
    await ok(root, ["run", "-d", "--name", "up", "busybox", "sleep", "1000"]);
    await ok(root, ["run", "--name", "done", "busybox", "sh", "-c", "head -c 300 /dev/zero > /f"]);
    await ok(root, ["create", "--name", "fresh", "busybox", "true"]);
    const refused = await berth(root, ["system", "prune"]);
    assert.is(refused.code, 125);
    assert.match(refused.stderr, /stdin is not a terminal: pass -f/);
    const pruned = await ok(root, ["system", "prune", "-f"]);
    assert.is(pruned.stdout, "Deleted Containers:\ndone\nfresh\n\nTotal reclaimed space: 300B\n");
    assert.is((await ok(root, ["ps", "-a", "-q"])).stdout, "up\n");
    assert.is((await ok(root, ["system", "prune", "-f"])).stdout, "Total reclaimed space: 0B\n");
    await ok(root, ["kill", "up"]);
  }));

/** The completion a shell offers for a command line that ends at the cursor, with `berth` on PATH for container names. */
function completer(root: string, shell: "bash" | "zsh", script: string) {
  const path = join(root, "path");
  fs.mkdirSync(path, { recursive: true });
  fs.writeFileSync(join(path, "berth"), `#!/bin/sh\nexec "${process.execPath}" "${join(repo, "bin", "berth.js")}" "$@"\n`, { mode: 0o755 });
  const env = { ...process.env, BERTH_ROOT: root, PATH: `${path}:${process.env.PATH}` };
  // zsh: compadd, _describe and _files are the completion system's; these stand-ins print what they are given.
  const zsh = [
    'compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }',
    '_describe() { shift 3; local e; for e in "${(@P)1}"; do print -r -- "${e%%:*}"; done; }',
    '_files() { print -r -- "<directories>"; }',
    `words=("$@"); CURRENT=$#; PREFIX=\${words[CURRENT]}; source ${script}`,
  ].join("\n");
  const bash = `source ${script}; COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _berth; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return (...words: string[]) => {
    const r = shell === "zsh"
      ? spawnSync("zsh", ["-f", "-c", zsh, "zsh", "berth", ...words], { encoding: "utf8", env })
      : spawnSync("bash", ["-c", bash, "bash", "berth", ...words], { encoding: "utf8", env });
    assert.is(r.stderr, "", `${shell}: ${words.join(" ")}`);
    return r.stdout.split("\n").filter(Boolean);
  };
}

test("completion bash|zsh: generated from the command registry; both shells complete commands, subcommands, flags, --root directories and container names", () =>
  withDaemon(async (root) => {
    const { COMMANDS } = await import("../src/cli/commands/index.js");
    await ok(root, ["run", "-d", "--name", "web", "busybox", "sleep", "1000"]);
    await ok(root, ["create", "--name", "later", "busybox", "true"]);
    const names = COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]);

    const bash = await ok(root, ["completion", "bash"]);
    assert.match(bash.stdout, /\ncomplete -F _berth berth\n$/);
    fs.writeFileSync(join(root, "berth.bash"), bash.stdout);
    const b = completer(root, "bash", join(root, "berth.bash"));
    assert.equal(b("").filter((w) => !w.startsWith("-")), names, "every registered command and alias, in the registry's order");
    assert.equal(b("re"), ["restart", "rename"]);
    assert.equal(b("system", ""), ["info", "df", "prune"]);
    assert.equal(b("--root", "/tmp", "system", "prune", "--f"), ["--force"]);
    assert.equal(b("restart", "-"), ["--root", "-t", "--time", "-s", "--signal", "--help"]);
    assert.equal(b("ps", "--fi"), ["--filter"]);
    assert.equal(b("cp", "-"), ["--root", "-a", "--archive", "-L", "--follow-link", "--help"]);
    assert.equal(b("exec", "").sort(), ["later", "web"], "container names from berth ps -a");
    assert.equal(b("logs", "w"), ["web"]);
    assert.equal(b("images", ""), [], "images takes no containers");

    const zsh = await ok(root, ["completion", "zsh"]);
    assert.match(zsh.stdout, /^#compdef berth\n/);
    assert.not.match(zsh.stdout, /"[^"\n]*`/, "no backticks inside double quotes: zsh would run them at every completion");
    fs.writeFileSync(join(root, "_berth"), zsh.stdout);
    assert.is(spawnSync("zsh", ["-n", join(root, "_berth")], { encoding: "utf8" }).status, 0, "zsh parses it");
    const z = completer(root, "zsh", join(root, "_berth"));
    assert.equal(z(""), names, "every registered command and alias, described, in the registry's order");
    assert.equal(z("-"), ["--root", "--help", "--version"]);
    assert.equal(z("system", ""), ["info", "df", "prune"]);
    assert.equal(z("image", ""), b("image", ""), "the group's subcommands, as bash offers them");
    assert.ok(z("image", "").includes("ls"));
    assert.equal(z("--root", "/tmp", "system", "prune", "--f"), ["--root", "-f", "--force", "--orphans", "--help"], "the word after --root is no command");
    assert.equal(z("--root", ""), ["<directories>"]);
    assert.equal(z("restart", "-"), ["--root", "-t", "--time", "-s", "--signal", "--help"]);
    assert.equal(z("ps", "--fi"), ["--root", "--format", "-a", "--all", "-q", "--quiet", "-n", "--last", "-l", "--latest", "-s", "--size", "--no-trunc", "--filter", "--help"]);
    assert.equal(z("exec", "").sort(), ["later", "web"], "container names from berth ps -a");
    assert.equal(z("stop", "-t", "1", "").sort(), ["later", "web"]);
    assert.equal(z("images", ""), [], "images takes no containers");

    const fish = await berth(root, ["completion", "fish"]);
    assert.is(fish.code, 2);
    assert.match(fish.stderr, /^berth: usage: .*'fish' is invalid/);
    await ok(root, ["kill", "web"]);
  }));

test("the systemd unit runs `berth daemon` with KillMode=process, and the README installs it and uses plain `berth`", async () => {
  const unit = fs.readFileSync(join(repo, "contrib", "berth.service"), "utf8");
  assert.match(unit, /^ExecStart=\/usr\/local\/bin\/berth daemon --root \/var\/lib\/berth$/m);
  assert.match(unit, /^KillMode=process$/m);
  assert.match(unit, /^WantedBy=multi-user.target$/m);
  const readme = fs.readFileSync(join(repo, "README.md"), "utf8");
  assert.match(readme, /## Running the daemon as a service[\s\S]*cp contrib\/berth.service \/etc\/systemd\/system\/[\s\S]*systemctl enable --now berth[\s\S]*npm start/);
  const usage = readme.slice(readme.indexOf("## Using it"), readme.indexOf("## Running the daemon"));
  const lines = usage.split("\n").filter((l) => /^(berth|source|npx) /.test(l));
  assert.ok(lines.length > 10);
  assert.ok(lines.every((l) => !l.startsWith("npx ")), "the examples use plain berth");
  // Every example names a command berth has.
  const { COMMANDS } = await import("../src/cli/commands/index.js");
  const names = new Set(COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]));
  for (const l of lines.filter((x) => x.startsWith("berth "))) assert.ok(names.has(l.split(/\s+/)[1]!), l);
  ensureBuilt();
  const help = await berth(join(repo, "no-such-root"), ["daemon", "--help"]); // --help reads no root
  assert.match(help.stdout, /--root <dir>/);
});

test.run();
