// Entry point of the daemon process: `node dist/src/daemon/main.js [--root DIR] [--config FILE] [--driver D] [--sync full|normal] [--accept-journal-loss] [--log JSON] [--default-network NAME] [--registries-conf FILE]
// [--ship nats://HOST:PORT[,...] [--node NAME] [--ship-user U --ship-password P | --ship-token T] [--ship-ca FILE] [--ship-nkey FILE | --ship-creds FILE]]`.
// Every flag but --root and --config can also come from the config file (src/daemon/config.ts).
// The CLI's `berth daemon` runs the same code.
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BerthError, toBerthError } from "../model/errors.js";
import { isDriverName } from "../vm/driver.js";
import { compileWasmLightly } from "../host/memory.js";
import { defaultRoot, socketPath } from "../host/root-layout.js";
import { keyAuthenticator, parseServers } from "../fleet/nats.js";
import { mergeOptions, parseDaemonConfig, SECRET_KEYS, type DaemonFileOptions } from "./config.js";
import { Daemon, type DaemonOptions } from "./daemon.js";

/** The config file read when no --config is given, if it exists. */
export const DEFAULT_CONFIG = "daemon.json";

export async function runDaemon(argv: string[]): Promise<void> {
  compileWasmLightly();
  // No defaults here: an absent flag leaves the key to the config file, then to the default.
  const { values } = parseArgs({ args: argv, options: { root: { type: "string" }, config: { type: "string" }, driver: { type: "string" }, sync: { type: "string" }, "accept-journal-loss": { type: "boolean" }, log: { type: "string" }, "default-network": { type: "string" }, "registries-conf": { type: "string" }, ...SHIP_FLAGS } });
  const root = values.root ?? defaultRoot();
  const config = readConfig(values.config, root);
  const o = mergeOptions(config?.options ?? {}, flagOptions(values));
  const driver = o.driver ?? "runc";
  if (!isDriverName(driver)) throw new BerthError("invalidArgument", `unknown driver ${driver}: expected runc or fake`);
  const sync = o.sync ?? "full";
  if (sync !== "full" && sync !== "normal") throw new BerthError("invalidArgument", `--sync must be full or normal`);
  const daemon = await Daemon.start({ root, driver, sync, acceptJournalLoss: o.acceptJournalLoss ?? false, ship: shipOptions(o.ship), ...(o.defaultNetwork ? { defaultNetwork: o.defaultNetwork } : {}), ...(o.registriesConf ? { registriesConf: o.registriesConf } : {}), ...(o.log ? { log: o.log } : {}) });
  if (config?.warning) console.error(`berth daemon: warning: ${config.warning}`);
  for (const warning of daemon.warnings) console.error(`berth daemon: warning: ${warning}`);
  const { loadMs, recoverMs } = daemon.timings;
  console.log(`berth daemon ${process.pid} serving ${socketPath(daemon.root)}; recovered ${JSON.stringify(daemon.recovered)} (projection loaded in ${loadMs} ms, recovery took ${recoverMs} ms)${config ? `; config ${config.file}` : ""}`);
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
  "ship-nkey": { type: "string" },
  "ship-creds": { type: "string" },
  "ship-redact-env": { type: "boolean" },
} as const;

type FlagValues = { [K in Exclude<keyof typeof SHIP_FLAGS, "ship-redact-env"> | "driver" | "sync" | "log" | "default-network" | "registries-conf"]?: string } & { "accept-journal-loss"?: boolean; "ship-redact-env"?: boolean };

/** The flags in the config file's shape; paths resolve against the working directory. */
function flagOptions(v: FlagValues): DaemonFileOptions {
  const path = (p: string | undefined) => (p === undefined ? undefined : resolve(p));
  return {
    driver: v.driver as DaemonFileOptions["driver"],
    sync: v.sync as DaemonFileOptions["sync"],
    acceptJournalLoss: v["accept-journal-loss"],
    log: v.log === undefined ? undefined : (JSON.parse(v.log) as Record<string, unknown>),
    defaultNetwork: v["default-network"],
    registriesConf: path(v["registries-conf"]),
    ship: { servers: v.ship, node: v.node, user: v["ship-user"], password: v["ship-password"], token: v["ship-token"], ca: path(v["ship-ca"]), nkey: path(v["ship-nkey"]), creds: path(v["ship-creds"]), redactEnv: v["ship-redact-env"] },
  };
}

/**
 * The edge of the config file: --config FILE (which must exist), else <root>/daemon.json when
 * it exists. A file holding a password or token that others may read earns a warning.
 */
function readConfig(flag: string | undefined, root: string): { file: string; options: DaemonFileOptions; warning?: string } | undefined {
  const file = resolve(flag ?? join(root, DEFAULT_CONFIG));
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if (flag === undefined && (err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new BerthError("invalidArgument", `cannot read the daemon config file ${file}: ${(err as Error).message}`);
  }
  const parsed = parseDaemonConfig(text, file);
  if (!parsed.ok) throw parsed.error;
  const secret = SECRET_KEYS.some((k) => parsed.options.ship?.[k] !== undefined);
  const mode = statSync(file).mode & 0o777;
  const warning = secret && (mode & 0o077) !== 0 ? `${file} holds NATS credentials and is readable by others (mode ${mode.toString(8).padStart(4, "0")}): chmod 600 it` : undefined;
  return { file, options: parsed.options, ...(warning ? { warning } : {}) };
}

function shipOptions(ship: DaemonFileOptions["ship"]): DaemonOptions["ship"] {
  if (ship?.servers === undefined) {
    if (ship?.node !== undefined) throw new BerthError("invalidArgument", "--node names this node in the fleet stream: it needs --ship");
    if (ship?.redactEnv) throw new BerthError("invalidArgument", "--ship-redact-env redacts what is shipped: it needs --ship");
    return undefined;
  }
  parseServers(ship.servers);
  const target = { servers: ship.servers, node: ship.node, user: ship.user, pass: ship.password, token: ship.token, tlsCa: ship.ca, nkey: ship.nkey, creds: ship.creds, redactEnv: ship.redactEnv === true };
  // A missing or malformed seed or .creds file stops the start, naming the file, rather than
  // surfacing only later in `journal stats`.
  keyAuthenticator(target);
  return target;
}

// Run only when this file is the entry point (the CLI imports runDaemon instead).
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  runDaemon(process.argv.slice(2)).catch((err) => {
    const e = toBerthError(err);
    console.error(`berth daemon: ${e.code}: ${e.message}`);
    process.exit(125);
  });
}
