// Interactive containers end to end: the real `berth` binary, a real daemon with the runc
// driver, conmon's attach socket, and a real terminal. The terminal is a tmux pane on a tmux
// server of the test's own: keys go in with send-keys, the screen comes back with capture-pane.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, bin, waitFor, withDaemon } from "./helpers/cli-env.js";
import type { DaemonProcess } from "./helpers/daemon.js";

/** The pids whose command line holds `args` in order. */
function processesRunning(args: string[]): number[] {
  const wanted = args.join("\0");
  return fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes(wanted);
    } catch {
      return false; // it exited meanwhile
    }
  }).map(Number);
}

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

test("run -i forwards stdin until EOF: a pipe's lines reach the container, and its EOF ends it", () =>
  withDaemon(async (root) => {
    const wc = await berth(root, ["run", "-i", "--rm", "busybox", "wc", "-l"], { stdin: Buffer.from("a\nb\n") });
    assert.is(wc.code, 0, wc.stderr);
    assert.is(wc.stdout.trim(), "2");
    const cat = await berth(root, ["run", "-i", "--rm", "busybox", "cat"], { stdin: Buffer.from("hi\n") });
    assert.is(cat.code, 0, cat.stderr);
    assert.is(cat.stdout, "hi\n");
    // create -i, then start -ai: attached before init starts, every time it starts.
    assert.is((await berth(root, ["create", "-i", "--name", "s", "busybox", "sh", "-c", "read x; echo got-$x; exit 6"])).code, 0);
    for (const word of ["one", "two"]) {
      const started = await berth(root, ["start", "-ai", "s"], { stdin: Buffer.from(`${word}\n`) });
      assert.is(started.code, 6, started.stderr);
      assert.is(started.stdout, `got-${word}\n`);
    }
    assert.is((await berth(root, ["rm", "s"])).code, 0);
    // Without -i, stdin is not the container's: cat reads /dev/null and prints nothing.
    const closed = await berth(root, ["run", "--rm", "busybox", "cat"], { stdin: Buffer.from("unseen\n") });
    assert.is(closed.code, 0, closed.stderr);
    assert.is(closed.stdout, "");
  }));

test("run -t without a terminal on stdin fails clearly with exit 1, and creates nothing", () =>
  withDaemon(async (root) => {
    const r = await berth(root, ["run", "-t", "--rm", "busybox", "true"], { stdin: Buffer.from("") });
    assert.is(r.code, 1);
    assert.match(r.stderr, /the input device is not a TTY/);
    const ls = await berth(root, ["ls", "-a", "-q"]);
    assert.is(ls.stdout, "");
  }));

test("exec -i carries 10 MB of stdin byte for byte, and exec keeps the container's exit codes", () =>
  withDaemon(async (root) => {
    const tmp = fs.mkdtempSync(join(root, "in-"));
    const file = join(tmp, "10mb.bin");
    const data = randomBytes(10 * 1000 * 1000);
    fs.writeFileSync(file, data);
    assert.is((await berth(root, ["run", "-d", "--name", "c", "busybox", "sleep", "1000"])).code, 0);
    const put = await berth(root, ["exec", "-i", "c", "sh", "-c", "cat > /f; exit 3"], { stdin: { file } });
    assert.is(put.code, 3, put.stderr);
    const sum = await berth(root, ["exec", "c", "md5sum", "/f"]);
    assert.is(sum.stdout.split(" ")[0], md5(data));
    assert.is((await berth(root, ["rm", "-f", "c"])).code, 0);
  }));

/** A tmux server of the test's own, with one pane running bash, where `berth` is this checkout's CLI. */
class Terminal {
  private readonly socket: string;
  constructor(readonly dir: string, root: string) {
    this.socket = join(dir, "tmux.sock");
    const rc = join(dir, "bashrc");
    fs.writeFileSync(rc, `PS1='$ '\nexport BERTH_ROOT=${root}\nberth() { ${process.execPath} ${bin} "$@"; }\n`);
    this.tmux("new-session", "-d", "-s", "t", "-c", dir, "-x", "100", "-y", "30", `bash --noprofile --rcfile ${rc}`);
  }
  tmux(...args: string[]): string {
    return execFileSync("tmux", ["-S", this.socket, ...args], { encoding: "utf8" });
  }
  /** Types a line and presses Enter. */
  line(text: string): void {
    this.tmux("send-keys", "-t", "t", "-l", text);
    this.tmux("send-keys", "-t", "t", "Enter");
  }
  keys(...keys: string[]): void {
    this.tmux("send-keys", "-t", "t", ...keys);
  }
  screen(): string {
    return this.tmux("capture-pane", "-p", "-t", "t", "-S", "-200");
  }
  /** Waits until the screen matches, and returns the screen. */
  async expect(pattern: RegExp, what: string): Promise<string> {
    await waitFor(what, () => pattern.test(this.screen()), 30_000).catch(() => {
      throw new Error(`${what}: the screen never matched ${pattern}:\n${this.screen()}`);
    });
    return this.screen();
  }
  close(): void {
    try {
      this.tmux("kill-server");
    } catch {
      // the server already ended with its last pane
    }
  }
}

async function withTerminal(fn: (t: Terminal, root: string, daemon: DaemonProcess) => Promise<void>): Promise<void> {
  return withDaemon(async (root, daemon) => {
    const dir = fs.mkdtempSync(join(root, "tty-"));
    const t = new Terminal(dir, root);
    try {
      await t.expect(/^\$ ?$/m, "the host shell's prompt");
      await fn(t, root, daemon);
    } finally {
      t.close();
    }
  });
}

test("run -it: a shell on a pty of its own, sized like the pane and resized with it; exit 4 returns to a cooked host terminal", () =>
  withTerminal(async (t, root) => {
    t.line("stty -a > before.stty");
    t.line("berth run -it --rm busybox sh");
    await t.expect(/^\/ #/m, "the container's prompt");
    t.line("tty; echo $((6*7)); stty size; echo TERM=$TERM");
    let screen = await t.expect(/^TERM=xterm/m, "tty, 42, the size and TERM");
    assert.match(screen, /^\/dev\/pts\/0$/m);
    assert.match(screen, /^42$/m);
    assert.match(screen, /^30 100$/m);
    t.tmux("resize-window", "-t", "t", "-x", "90", "-y", "25");
    await waitFor("the pane to resize", () => t.tmux("display", "-p", "-t", "t", "#{pane_width}x#{pane_height}").trim() === "90x25", 10_000);
    t.line("stty size");
    await t.expect(/^25 90$/m, "the new size inside the container");
    t.line("exit 4");
    // Keys typed before the CLI has given the terminal back would go to the ending container.
    await t.expect(/exit 4\n\$ ?$/m, "the host shell's prompt again");
    t.line("echo host-rc=$?; stty -a > after.stty");
    screen = await t.expect(/^host-rc=4$/m, "the host shell with $? = 4");
    // The host terminal is cooked again: its settings are as before, but for the size.
    const dir = t.dir;
    const settings = (f: string) => fs.readFileSync(join(dir, f), "utf8").split("\n").slice(1).join("\n");
    await waitFor("stty -a to be written", () => fs.existsSync(join(dir, "after.stty")) && settings("after.stty").length > 0, 10_000);
    assert.is(settings("after.stty"), settings("before.stty"));
    assert.is((await berth(root, ["ls", "-a", "-q"])).stdout, "", "the --rm container is gone");
  }));

test("run -dit, attach, detach with ctrl-p ctrl-q, attach again: the shell kept its state; exec -it gives a second shell that outlives its detach", () =>
  withTerminal(async (t, root) => {
    t.line("berth run -dit --name c busybox sh; berth attach c");
    t.line("X=1; echo set-$X");
    await t.expect(/^set-1$/m, "the first attach's shell");
    t.keys("C-p", "C-q");
    t.line("echo detached-rc=$?");
    await t.expect(/detached-rc=0$/m, "the host shell after the detach");
    assert.is(JSON.parse((await berth(root, ["inspect", "c"])).stdout)[0].status, "running");
    t.line("berth attach c");
    t.line("echo again-$X");
    await t.expect(/^again-1$/m, "the same shell, with X still set");
    t.keys("C-p", "C-q");
    t.line("berth exec -it c sh");
    t.line("echo second-$$");
    const screen = await t.expect(/^second-\d+$/m, "a second shell");
    const pid = /^second-(\d+)$/m.exec(screen)![1]!;
    t.keys("C-p", "C-q");
    t.line("echo exec-detached-rc=$?");
    await t.expect(/exec-detached-rc=0$/m, "the host shell after the exec's detach");
    const ps = await berth(root, ["exec", "c", "ps", "-o", "pid,args"]);
    assert.match(ps.stdout, new RegExp(`^\\s*${pid} sh$`, "m"), "the detached exec's shell still runs");
    // Who had a terminal, and when: every attach and its detach, with uid and pid.
    const h = (await berth(root, ["history", "c"])).stdout;
    assert.is((h.match(/uid 0 pid \d+ +client attached to its terminal and stdin of init/g) ?? []).length, 2, h);
    assert.is((h.match(/client detached from init: it detached/g) ?? []).length, 2, h);
    assert.match(h, /client attached to its terminal and stdin of exec exec-\w+/);
    assert.match(h, /client detached from exec exec-\w+: it detached/);
    assert.is((await berth(root, ["rm", "-f", "c"])).code, 0);
  }));

test("an attached CLI killed with SIGKILL is journaled as a clientGone detach", () =>
  withTerminal(async (t, root) => {
    t.line("berth run -dit --name c busybox sh; berth attach c");
    t.line("echo attached");
    await t.expect(/^attached$/m, "the attached shell");
    const cli = processesRunning([bin, "attach", "c"]);
    assert.is(cli.length, 1, "one attached CLI");
    process.kill(cli[0]!, "SIGKILL");
    await waitFor("the clientGone detach", async () => /client detached from init: clientGone/.test((await berth(root, ["history", "c"])).stdout), 20_000);
    t.line("reset");
    assert.is((await berth(root, ["rm", "-f", "c"])).code, 0);
  }));

test("the daemon dying mid-session ends the attach with a clear error and gives the host terminal back cooked", () =>
  withTerminal(async (t, _root, daemon) => {
    t.line("stty -a > before.stty; berth run -dit --name c busybox sh; berth attach c");
    t.line("echo attached");
    await t.expect(/^attached$/m, "the attached shell");
    await daemon.kill9();
    await t.expect(/the daemon went away while attached to c/, "the CLI's error");
    t.line("echo host-rc=$?; stty -a > after.stty");
    await t.expect(/^host-rc=125$/m, "the host shell, with berth's failure code");
    const settings = (f: string) => fs.readFileSync(join(t.dir, f), "utf8");
    await waitFor("stty -a to be written", () => fs.existsSync(join(t.dir, "after.stty")) && settings("after.stty").length > 0, 10_000);
    assert.is(settings("after.stty"), settings("before.stty"));
  }));

test.run();
