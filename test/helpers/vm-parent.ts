// A stand-in for the daemon: starts a runtime service and its init, prints the endpoint on
// stdout, then idles until it is killed. Used to show the service outlives its parent.
import { startRuntimeService } from "../../src/vm/runtime.js";
import { ServiceClient } from "../../src/vm/service-client.js";
import { config } from "./vm-sandbox.js";

const [root, id, argsJson] = process.argv.slice(2);
const endpoint = await startRuntimeService({ root: root!, id: id!, config: config({ init: { args: JSON.parse(argsJson!) } }, id!) });
const client = await ServiceClient.connect(endpoint.socket);
await client.startProcess(id!);
process.stdout.write(`${JSON.stringify(endpoint)}\n`);
setInterval(() => {}, 1 << 30);
