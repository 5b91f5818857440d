// Entry point of the daemon process: `node dist/src/daemon/main.js [--root DIR] [--driver D] [--sync full|normal] [--accept-journal-loss] [--log JSON] [--default-network NAME] [--registries-conf FILE]
// [--ship nats://HOST:PORT[,...] [--node NAME] [--ship-user U --ship-password P | --ship-token T] [--ship-ca FILE]]`.
// The CLI's `berth daemon` runs the same code.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { toBerthError } from "../model/errors.js";
import { isDriverName } from "../vm/driver.js";
import { defaultRoot, socketPath } from "../host/root-layout.js";
import { parseServers } from "../fleet/nats.js";
import { Daemon, type DaemonOptions } from "./daemon.js";

export async function runDaemon(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { root: { type: "string" }, driver: { type: "string", default: "runc" }, sync: { type: "string", default: "full" }, "accept-journal-loss": { type: "boolean", default: false }, log: { type: "string" }, "default-network": { type: "string" }, "registries-conf": { type: "string" }, ...SHIP_FLAGS } });
  if (!isDriverName(values.driver)) throw new Error(`unknown driver ${values.driver}: expected runc, process or fake`);
  if (values.sync !== "full" && values.sync !== "normal") throw new Error(`--sync must be full or normal`);
  const daemon = await Daemon.start({ root: values.root ?? defaultRoot(), driver: values.driver, sync: values.sync, acceptJournalLoss: values["accept-journal-loss"], ship: shipOptions(values), ...(values["default-network"] ? { defaultNetwork: values["default-network"] } : {}), ...(values["registries-conf"] ? { registriesConf: resolve(values["registries-conf"]) } : {}), ...(values.log ? { log: JSON.parse(values.log) as unknown } : {}) });
  for (const warning of daemon.warnings) console.error(`berth daemon: warning: ${warning}`);
  const { loadMs, recoverMs } = daemon.timings;
  console.log(`berth daemon ${process.pid} serving ${socketPath(daemon.root)}; recovered ${JSON.stringify(daemon.recovered)} (projection loaded in ${loadMs} ms, recovery took ${recoverMs} ms)`);
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    void daemon.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

const SHIP_FLAGS = {
  ship: { type: "string" },
  node: { type: "string" },
  "ship-user": { type: "string" },
  "ship-password": { type: "string" },
  "ship-token": { type: "string" },
  "ship-ca": { type: "string" },
  "ship-redact-env": { type: "boolean" },
} as const;

type ShipValues = { [K in keyof typeof SHIP_FLAGS]?: (typeof SHIP_FLAGS)[K]["type"] extends "boolean" ? boolean : string };

function shipOptions(values: ShipValues): DaemonOptions["ship"] {
  if (values.ship === undefined) {
    if (values.node !== undefined) throw new Error("--node names this node in the fleet stream: it needs --ship");
    if (values["ship-redact-env"]) throw new Error("--ship-redact-env redacts what is shipped: it needs --ship");
    return undefined;
  }
  parseServers(values.ship);
  return { servers: values.ship, node: values.node, user: values["ship-user"], pass: values["ship-password"], token: values["ship-token"], tlsCa: values["ship-ca"], redactEnv: values["ship-redact-env"] === true };
}

// Run only when this file is the entry point (the CLI imports runDaemon instead).
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  runDaemon(process.argv.slice(2)).catch((err) => {
    const e = toBerthError(err);
    console.error(`berth daemon: ${e.code}: ${e.message}`);
    process.exit(125);
  });
}
