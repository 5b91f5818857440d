// A stand-in for the daemon: starts a runtime service and its init, prints the endpoint on
// stdout, then idles until it is killed. Used to show the service outlives its parent.
// With a fourth argument "warm" it claims the service from a pool, waits for the pool to
// refill, and prints {endpoint, idlePids} instead, so a test can watch the idle one too.
import { ServicePool, startRuntimeService } from "../../src/vm/runtime.js";
import { ServiceClient } from "../../src/vm/service-client.js";
import { config } from "./vm-sandbox.js";

const [root, id, argsJson, mode] = process.argv.slice(2);
const pool = mode === "warm" ? new ServicePool(root!, 1, 0) : undefined;
pool?.fill();
await pool?.ready();
const endpoint = await startRuntimeService({ root: root!, id: id!, config: config({ init: { args: JSON.parse(argsJson!) } }, id!), ...(pool ? { pool } : {}) });
const client = await ServiceClient.connect(endpoint.socket);
await client.startProcess(id!);
await pool?.ready();
process.stdout.write(`${JSON.stringify(pool ? { endpoint, idlePids: pool.idlePids } : endpoint)}\n`);
setInterval(() => {}, 1 << 30);
