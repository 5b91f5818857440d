// The `client` role alone, for children that run as another uid (nobody): they are run from a
// bundle in a world-readable directory, because the checkout itself may not be readable to them.
// Usage: node ipc-client-child.mjs SOCKET ROUTE [BODY_JSON]
import { IpcClient } from "../../src/ipc/client.js";
import { toBerthError } from "../../src/model/errors.js";

const [socketPath, route, body] = process.argv.slice(2);
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
try {
  const c = await IpcClient.connect(socketPath!, { timeoutMs: 10_000 });
  const result = await c.call(route ?? "ping", body ? JSON.parse(body) : {});
  c.close();
  print({ ok: true, result, pid: process.pid });
} catch (err) {
  const e = toBerthError(err);
  print({ ok: false, code: e.code, message: e.message, pid: process.pid });
}
