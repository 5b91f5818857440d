// `berth daemon`: the daemon in the foreground. It runs the tsc-built daemon, not a bundled
// copy (scripts/bundle.mjs keeps the import below external), so it stays a dynamic import.
import { Option } from "commander";
import { logConfig } from "../container-options.js";
import type { LeafCommand } from "./command.js";

export const command: LeafCommand = {
  kind: "command",
  name: "daemon",
  description: "run the daemon in the foreground (SIGTERM stops it; containers keep running)",
  examples: ["berth daemon", "berth daemon --root /tmp/berth --sync normal", "berth daemon --log-opt max-size=10m --log-opt max-file=3"],
  flags: (cmd) => cmd
    .addOption(new Option("--driver <driver>", "runtime driver").choices(["runc", "fake"]).default("runc"))
    .addOption(new Option("--sync <mode>", "journal durability: full survives power loss, normal may lose the last commits").choices(["full", "normal"]).default("full"))
    .option("--accept-journal-loss", "start although exit acks prove the journal lost acknowledged events; journals the loss (see docs/journal.md)")
    .option("--log-driver <driver>", "the default --log-driver of containers created without one: k8s-file or none")
    .option("--log-opt <K=V>", "the default --log-opt of containers created without log options: max-size=SIZE, max-file=N; repeatable", (v: string, a: string[]) => [...a, v], [] as string[]),
  action: async (session, opts) => {
    const { runDaemon } = await import("../../daemon/main.js");
    const log = logConfig(opts.logDriver, opts.logOpt);
    await runDaemon(["--root", session.root, "--driver", opts.driver, "--sync", opts.sync, ...(opts.acceptJournalLoss ? ["--accept-journal-loss"] : []), ...(log ? ["--log", JSON.stringify(log)] : [])]);
    // The daemon now serves until SIGTERM; do not report an exit code.
    return undefined;
  },
};
