// Issue 5 acceptance 5: twenty clients race stop, kill, start and delete on the same
// containers. Every refusal is a typed error, and the journal never holds a forbidden transition.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Journal } from "../src/events/journal.js";
import type { RuntimeClient } from "../src/ipc/runtime-client.js";
import { checkInvariants } from "./helpers/chaos.js";
import { random } from "./helpers/random.js";
import { tempRoot, withDaemon } from "./helpers/daemon.js";

const ids = ["r0", "r1", "r2"];
const EXPECTED_REFUSALS = ["invalidState", "notFound", "exists"];

test("twenty racing clients never drive the journal into a forbidden transition", () =>
  withDaemon(tempRoot(), async (daemon) => {
    const root = daemon.root;
    const d = daemon;
    const outcomes = new Map<string, number>();
    const race = async (client: number) => {
      const rng = random(1000 + client);
      for (let i = 0; i < 6; i++) {
        const id = rng.pick(ids);
        const action = rng.pick(["stop", "kill", "start", "delete", "create"] as const);
        let rc: RuntimeClient | undefined;
        let outcome = "ok";
        try {
          rc = await d.client(id);
          if (action === "stop") await rc.stop({ timeoutInSeconds: 0 });
          if (action === "kill") await rc.kill(id, "SIGKILL");
          if (action === "start") {
            await rc.bootstrap().catch((e) => (e.code === "invalidState" ? undefined : Promise.reject(e)));
            await rc.startProcess(id);
          }
          if (action === "delete") await rc.delete({ force: rng.next() < 0.3 });
          if (action === "create") await rc.createContainer({ init: { args: ["sleep", "1000"] } });
        } catch (err) {
          outcome = (err as { code?: string }).code ?? `untyped: ${(err as Error).message}`;
        } finally {
          rc?.close();
        }
        outcomes.set(`${action}:${outcome}`, (outcomes.get(`${action}:${outcome}`) ?? 0) + 1);
      }
    };
    for (const id of ids) {
      const rc = await d.client(id);
      await rc.createContainer({ init: { args: ["sleep", "1000"] } });
      await rc.bootstrap();
      await rc.startProcess(id);
      rc.close();
    }
    await Promise.all(Array.from({ length: 20 }, (_, i) => race(i)));
    for (const key of outcomes.keys()) {
      const code = key.split(":")[1]!;
      assert.ok(code === "ok" || EXPECTED_REFUSALS.includes(code), `${key} is an expected outcome`);
    }
    assert.ok([...outcomes.keys()].some((k) => k.endsWith(":ok")), "some calls won their race");
    assert.ok([...outcomes.keys()].some((k) => !k.endsWith(":ok")), "some calls lost their race");
    const journal = await Journal.open(join(root, "journal.db"), { readonly: true });
    try {
      const problems = await checkInvariants(root, [...journal.readAll()], journal.verify());
      assert.equal(problems, [], `${problems.join("; ")}\noutcomes: ${JSON.stringify([...outcomes])}`);
    } finally {
      journal.close();
    }
  }));

test.run();
