// A pull's progress on a terminal, as docker's: a line per layer, in the manifest's order,
// rewritten in place. First the display against a small screen model that applies the cursor
// moves it writes; then `berth pull` in a real terminal (a tmux pane), caught mid-download with
// one layer held open by a proxy, and again when a pull completes. Without a terminal: plain lines.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PullDisplay, progressBar } from "../src/cli/pull-progress.js";
import { berth, bin, waitFor, withDaemon } from "./helpers/cli-env.js";
import { buildImage, busyboxTree, layersOf, proxy, push, startRegistry } from "./helpers/registry.js";
import { tempDir } from "./helpers/tmp.js";

/** The screen a terminal would show: text, \n, \r, ESC[nA (up), ESC[nB (down), ESC[2K (clear line). */
class Screen {
  rows: string[] = [""];
  private row = 0;
  private col = 0;
  readonly isTTY = true;
  readonly columns = 100;
  write(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const esc = /^\x1b\[(\d*)([ABK])/.exec(text.slice(i));
      if (esc) {
        const n = Number(esc[1] || "1");
        if (esc[2] === "A") this.row = Math.max(0, this.row - n);
        if (esc[2] === "B") this.row += n;
        if (esc[2] === "K") this.rows[this.row] = "";
        while (this.rows.length <= this.row) this.rows.push("");
        i += esc[0].length - 1;
      } else if (text[i] === "\n") {
        this.row++;
        this.col = 0;
        while (this.rows.length <= this.row) this.rows.push("");
      } else if (text[i] === "\r") this.col = 0;
      else {
        const line = this.rows[this.row]!.padEnd(this.col);
        this.rows[this.row] = line.slice(0, this.col) + text[i] + line.slice(this.col + 1);
        this.col++;
      }
    }
  }
  text(): string[] {
    return this.rows.filter((r, i) => r !== "" || i < this.rows.length - 1);
  }
}

const d = (c: string) => `sha256:${c.repeat(64)}`;

test("on a terminal each layer keeps its own line, updated in place, in the manifest's order", () => {
  const screen = new Screen();
  const said: string[] = [];
  const display = new PullDisplay(screen, (l) => said.push(l), false);
  display.onProgress({ kind: "resolved", reference: "r", digest: d("0"), layers: 3, digests: [d("a"), d("b"), d("c")] });
  assert.equal(screen.text(), [], "nothing before a layer is reported: an up-to-date pull shows no layers");
  display.onProgress({ kind: "layer", digest: d("b"), status: "downloading", current: 500_000, total: 1_000_000 });
  display.onProgress({ kind: "layer", digest: d("c"), status: "exists", current: 10, total: 10 });
  display.onProgress({ kind: "layer", digest: d("a"), status: "downloading", current: 1_000, total: 40_000_000 });
  display.onProgress({ kind: "layer", digest: d("b"), status: "verified", current: 1_000_000, total: 1_000_000 });
  assert.equal(screen.text(), [
    `${"a".repeat(12)}: Downloading ${progressBar(1_000, 40_000_000)}  1.00kB/40.0MB`,
    `${"b".repeat(12)}: Download complete`,
    `${"c".repeat(12)}: Already exists`,
  ]);
  display.onProgress({ kind: "layer", digest: d("a"), status: "verified", current: 40_000_000, total: 40_000_000 });
  display.onProgress({ kind: "unpacking", layers: 3 });
  assert.is(screen.text()[0], `${"a".repeat(12)}: Extracting`);
  display.finish();
  assert.equal(screen.text(), [`${"a".repeat(12)}: Pull complete`, `${"b".repeat(12)}: Pull complete`, `${"c".repeat(12)}: Already exists`]);
  assert.equal(said, [], "the board writes to the terminal, not through the plain lines");
  assert.is(progressBar(25, 100), `[${"=".repeat(11)}>${" ".repeat(38)}]`);
  assert.is(progressBar(100, 100), `[${"=".repeat(50)}]`);
});

test("without a terminal, or with --quiet, docker's plain lines: one when a layer is done", () => {
  for (const [stream, quiet] of [[{ write: () => assert.unreachable("no board"), isTTY: false }, false], [{ write: () => assert.unreachable("no board"), isTTY: true }, true]] as const) {
    const said: string[] = [];
    const display = new PullDisplay(stream, (l) => said.push(l), quiet);
    display.onProgress({ kind: "resolved", reference: "r", digest: d("0"), layers: 2, digests: [d("a"), d("b")] });
    display.onProgress({ kind: "layer", digest: d("a"), status: "downloading", current: 1, total: 2 });
    display.onProgress({ kind: "layer", digest: d("a"), status: "verified", current: 2, total: 2 });
    display.onProgress({ kind: "layer", digest: d("b"), status: "exists", current: 2, total: 2 });
    display.finish();
    assert.equal(said, [`${"a".repeat(12)}: Pull complete`, `${"b".repeat(12)}: Already exists`]);
  }
});

test("berth pull in a real terminal: mid-download every layer has its line; at the end each is Pull complete, once", async () => {
  const registry = await startRegistry();
  const work = tempDir("berth-progress-");
  const held = await proxy(`http://${registry.host}`, { stallFirstBlobAt: 100_000 });
  try {
    const layout = join(work.path, "oci");
    buildImage(layout, "app", busyboxTree(work.path), { cmd: ["echo", "hi"] });
    for (const n of ["one", "two"]) {
      fs.mkdirSync(join(work.path, n));
      fs.writeFileSync(join(work.path, n, n), `${n}\n`);
      execFileSync("umoci", ["insert", "--image", `${layout}:app`, join(work.path, n), `/srv/${n}`]);
    }
    push(layout, "app", `${registry.host}/t/layers:1`);
    const layers = layersOf(layout, "app").map((l) => l.slice(7, 19));
    assert.is(layers.length, 3);
    await withDaemon(async (root) => {
      const tmux = (...args: string[]) => execFileSync("tmux", ["-S", join(work.path, "tmux.sock"), ...args], { encoding: "utf8" });
      const rc = join(work.path, "bashrc");
      fs.writeFileSync(rc, `PS1='$ '\nexport BERTH_ROOT=${root}\nberth() { ${process.execPath} ${bin} "$@"; }\n`);
      tmux("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", `bash --noprofile --rcfile ${rc}`);
      const screen = () => tmux("capture-pane", "-p", "-t", "t");
      const expect = (re: RegExp, what: string) => waitFor(what, () => re.test(screen()), 30_000).catch(() => assert.unreachable(`${what}: the screen never matched ${re}:\n${screen()}`));
      try {
        await expect(/^\$ ?$/m, "the prompt");
        const type = (line: string) => (tmux("send-keys", "-t", "t", "-l", line), tmux("send-keys", "-t", "t", "Enter"));
        type(`berth pull ${registry.host}/t/layers:1`);
        await expect(/Status: Downloaded newer image/, "the pull's end");
        const lines = screen().split("\n");
        for (const l of layers) assert.equal(lines.filter((x) => x.startsWith(l)), [`${l}: Pull complete`], `${l} has one line, complete`);
        const first = lines.findIndex((x) => x.startsWith(layers[0]!));
        assert.equal(lines.slice(first, first + 3).map((x) => x.slice(0, 12)), layers, "in the manifest's order");

        type(`berth image rm -f ${registry.host}/t/layers:1 >/dev/null; clear`);
        await expect(/^\$ ?\n*$/, "a clear screen");
        // Through the proxy: the bottom layer (busybox, the big one) is held after 100 kB; the two small ones finish.
        type(`berth pull ${held.origin.replace("http://", "")}/t/layers:1`);
        await expect(new RegExp(`^${layers[0]}: Downloading \\[=*>? +\\]  .*\\n${layers[1]}: Download complete *\\n${layers[2]}: Download complete *$`, "m"), "a line per layer mid-pull");
        tmux("send-keys", "-t", "t", "C-c");
        await held.close(); // the daemon's pull fails and ends
        await expect(/\^C\n\$ ?$/m, "the prompt after ^C");
      } finally {
        tmux("kill-server");
      }
      const plain = await berth(root, ["pull", `${registry.host}/t/layers:1`]);
      assert.not.match(plain.stdout, /\x1b/, "no escapes without a terminal");
    });
  } finally {
    await held.close();
    await registry.stop();
    work.remove();
  }
});

test.run();
