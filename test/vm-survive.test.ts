// A container outlives whoever started it: conmon, not the daemon, is the parent of its init,
// and an exit that happens while no daemon runs is read afterwards from conmon's exit file,
// with its real code and time.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RuntimeService } from "../src/daemon/runtime-service.js";
import type { RuntimeEndpoint } from "../src/events/catalogue.js";
import { monitorAlive } from "../src/vm/conmon.js";
import { containerPaths } from "../src/vm/paths.js";
import { cleanup, config, tempRoot, waitFor } from "./helpers/vm-sandbox.js";

const parentScript = fileURLToPath(new URL("./helpers/vm-parent.ts", import.meta.url));

const ppidOf = (pid: number) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
};

test("the sandbox survives its SIGKILLed starter under conmon, and a late follower gets the exit", async () => {
  const root = tempRoot();
  const id = "orphan";
  const args = ["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 3"];
  const parent = spawn(process.execPath, ["--import", "tsx", parentScript, root, id, JSON.stringify(args)], { stdio: ["ignore", "pipe", "inherit"] });
  let adopted: RuntimeService | undefined;
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let text = "";
      parent.stdout!.on("data", (b: Buffer) => {
        text += b.toString();
        if (text.includes("\n")) resolve(text.split("\n")[0]!);
      });
      parent.once("exit", (code) => reject(new Error(`parent exited early (${code})`)));
    });
    const { endpoint, pid, startedAt } = JSON.parse(line) as { endpoint: RuntimeEndpoint; pid: number; startedAt: number };
    assert.is(endpoint.monitor, "conmon");
    // init is conmon's child, not the starter's, and conmon is not the starter's either.
    assert.is(ppidOf(pid), endpoint.pid);
    assert.is.not(ppidOf(endpoint.pid), parent.pid);
    parent.kill("SIGKILL");
    await waitFor("the starter's death", () => parent.exitCode !== null || parent.signalCode !== null);
    assert.ok(monitorAlive(endpoint), "conmon outlives the starter");
    assert.is(ppidOf(pid), endpoint.pid);

    // The exit happens while nobody watches; a follower that comes later reads it from conmon's file.
    const before = Date.now();
    fs.writeFileSync(join(containerPaths(root, id).rootfs, "tmp", "go"), "");
    await waitFor("conmon to exit", () => !monitorAlive(endpoint));
    const known = [{ processId: id, spec: config({ init: { args } }, id).init, pid, startedAt, signalsSent: [] }];
    adopted = await RuntimeService.adopt({ root, id, config: config({ init: { args } }, id), driver: "runc", status: "running", processes: known });
    assert.ok(adopted, "the exited process can still be followed");
    const late = await adopted.wait(id);
    assert.is(late.exitCode, 3);
    assert.is(late.pid, pid);
    assert.is(late.signal, undefined);
    assert.ok(late.exitedAt >= before - 5 && late.exitedAt <= Date.now(), `exitedAt ${late.exitedAt} is the exit file's time`);
  } finally {
    if (parent.exitCode === null && parent.signalCode === null) parent.kill("SIGKILL");
    await adopted?.shutdown().catch(() => {});
    adopted?.close();
    await cleanup(root, [id]);
  }
});

test("a process that no monitor keeps any more is not adopted", async () => {
  const root = tempRoot();
  try {
    const cfg = config({ init: { args: ["sleep", "1"] } }, "never");
    const known = [{ processId: "never", spec: cfg.init, pid: 999_999, startedAt: 0, signalsSent: [] }];
    assert.is(await RuntimeService.adopt({ root, id: "never", config: cfg, driver: "runc", status: "running", processes: known }), undefined);
  } finally {
    await cleanup(root, ["never"]);
  }
});

test.run();
