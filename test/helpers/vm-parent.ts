// A stand-in daemon for test/vm-survive.test.ts: boots container <id> under <root> with the
// runc driver (conmon), starts init with the args given as JSON, prints one line
// {"endpoint":…,"pid":…,"startedAt":…} and then waits to be killed.
import { RuntimeService } from "../../src/daemon/runtime-service.js";
import { validateConfig } from "../../src/model/config.js";
import { PRIVATE_NETWORK } from "../../src/vm/driver.js";

const [root, id, argsJson] = process.argv.slice(2) as [string, string, string];
const config = validateConfig({ network: "none", init: { args: JSON.parse(argsJson) } }, id);
if (!config.ok) throw new Error(config.error.message);
const service = await RuntimeService.boot({ root, id, config: config.value, driver: "runc", dynamicEnv: {}, network: PRIVATE_NETWORK });
const started = await service.startProcess(id);
process.stdout.write(`${JSON.stringify({ endpoint: service.endpoint(), ...started })}\n`);
setInterval(() => {}, 60_000);
