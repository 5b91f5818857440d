// `berth daemon`: the daemon in the foreground. It runs the tsc-built daemon, not a bundled
// copy (scripts/bundle.mjs keeps the import below external), so it stays a dynamic import.
import { resolve } from "node:path";
import { Option } from "commander";
import { logConfig } from "../container-options.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "daemon",
  description: "run the daemon in the foreground (SIGTERM stops it; containers keep running)",
  examples: ["berth daemon", "berth daemon --root /tmp/berth --sync normal", "berth daemon --log-opt max-size=10m --log-opt max-file=3", "berth daemon --ship nats://10.0.0.5:4222 --node web-1", "berth daemon --config /etc/berth/daemon.json"],
  // No commander defaults: a flag left out leaves its key to the config file (docs/fleet.md).
  flags: (cmd) => cmd
    .option("--config <file>", "a JSON config file whose keys mirror these flags (driver, sync, ship: {servers, node, user, password, ...}); flags win over it. Default: <root>/daemon.json when it exists")
    .addOption(new Option("--driver <driver>", "runtime driver: runc (the default) or fake").choices(["runc", "fake"]))
    .addOption(new Option("--sync <mode>", "journal durability: full (the default) survives power loss, normal may lose the last commits").choices(["full", "normal"]))
    .option("--accept-journal-loss", "start although exit acks prove the journal lost acknowledged events; journals the loss (see docs/journal.md)")
    .option("--default-network <network>", "the network of containers created without --network (podman's default_network): bridge (the default), none, host or a network's name")
    .option("--registries-conf <file>", "a registries.conf (v2, as podman's) naming mirrors tried before each registry, read at start (see docs/images.md)")
    .option("--log-driver <driver>", "the default --log-driver of containers created without one: k8s-file or none")
    .option("--log-opt <K=V>", "the default --log-opt of containers created without log options: max-size=SIZE, max-file=N; repeatable", (v: string, a: string[]) => [...a, v], [] as string[])
    .option("--ship <urls>", "ship every committed event to the NATS JetStream fleet stream at nats://HOST:PORT[,...] (see docs/fleet.md)")
    .option("--node <name>", "this node's name in the fleet stream (default: the hostname)")
    .option("--ship-user <user>", "NATS user name")
    .option("--ship-password <password>", "NATS password")
    .option("--ship-token <token>", "NATS token")
    .option("--ship-ca <file>", "CA certificate that signs the NATS server's TLS certificate")
    .option("--ship-nkey <file>", "a file holding this node's NATS nkey seed (SU...)")
    .option("--ship-creds <file>", "a NATS .creds file (user JWT and seed, as nsc writes it)")
    .option("--ship-redact-env", "ship environment values as <redacted> (names kept; the journal keeps them; no restore from such a stream, see docs/fleet.md)"),
  action: async (session, opts) => {
    const { runDaemon } = await import("../../daemon/main.js");
    const log = logConfig(opts.logDriver, opts.logOpt);
    await runDaemon(["--root", session.root, ...(opts.config ? ["--config", resolve(opts.config as string)] : []), ...valueArgs(opts), ...(opts.acceptJournalLoss ? ["--accept-journal-loss"] : []), ...(log ? ["--log", JSON.stringify(log)] : [])]);
    // The daemon now serves until SIGTERM; do not report an exit code.
    return undefined;
  },
};

const VALUE_OPTIONS = [["driver", "--driver"], ["sync", "--sync"], ["defaultNetwork", "--default-network"], ["registriesConf", "--registries-conf"], ["ship", "--ship"], ["node", "--node"], ["shipUser", "--ship-user"], ["shipPassword", "--ship-password"], ["shipToken", "--ship-token"], ["shipCa", "--ship-ca"], ["shipNkey", "--ship-nkey"], ["shipCreds", "--ship-creds"]] as const;

/** The flags given, passed on as given: the daemon resolves their paths against this directory. */
function valueArgs(opts: Record<string, unknown>): string[] {
  return [...VALUE_OPTIONS.flatMap(([key, flag]) => (typeof opts[key] === "string" ? [flag, opts[key] as string] : [])), ...(opts.shipRedactEnv === true ? ["--ship-redact-env"] : [])];
}
