// The `berth` command line, declared once with commander: every command, flag, help text and
// example lives here, and docs/cli.md is generated from this parser (see reference.ts).
// Handlers are imported lazily so `berth run` does not load SQLite.
import { Command, Option } from "commander";
import { containerFlags, processFlags } from "./container-options.js";
import { resolveRoot, Session, type GlobalOptions } from "./context.js";

type Handler = (session: Session, opts: Record<string, any>, cmd: Command) => Promise<number>;

export interface ProgramHooks {
  /** Receives each action's exit code. */
  done(code: number): void;
}

const examples = (lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;

/** Each command's examples, for the generated reference (docs/cli.md). */
export const EXAMPLES = new WeakMap<Command, string[]>();
const withExamples = (cmd: Command, lines: string[]) => {
  EXAMPLES.set(cmd, lines);
  return cmd.addHelpText("after", examples(lines));
};

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * The top-level command a command line runs, when it can name only one: its first word after
 * any `--root DIR`. Undefined when it starts with another flag (`--help` lists every command)
 * or has no command. main.ts then declares just that command: commander builds the whole tree
 * eagerly, and ~80 options cost a few ms of a short command's start.
 */
export function commandNamed(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--root") i++;
    else if (!arg.startsWith("--root=")) return arg.startsWith("-") ? undefined : arg;
  }
  return undefined;
}

/** Builds the parser: every command, or only `only` (see commandNamed) when it names one. */
export function buildProgram(hooks: ProgramHooks = { done: () => {} }, only?: string): Command {
  const program = new Command("berth")
    .description("A Linux container runtime whose memory is an event journal")
    .version("0.1.0")
    .option("--root <dir>", "berth root (default: $BERTH_ROOT, /var/lib/berth as root, else $XDG_STATE_HOME/berth)")
    .enablePositionalOptions()
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureHelp({ helpWidth: 110 })
    // Usage errors print as `berth: usage: ...` and exit 2 (see main.ts).
    .configureOutput({ outputError: (text, write) => write(`berth: usage: ${text.replace(/^error: /, "")}`) });
  withExamples(program, ["berth run --rm busybox echo hello", "berth run -d --name web busybox httpd -f", "berth history web", "berth journal verify"]);

  /** Declares a subcommand with --root (and --format when it prints records) and a lazy handler. */
  const command = (name: string, description: string, opts: { format?: boolean; examples: string[] }) => {
    const cmd = program.command(name).description(description).option("--root <dir>", "berth root (overrides the global --root)");
    if (opts.format) cmd.addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table"));
    return withExamples(cmd, opts.examples);
  };
  const act = (cmd: Command, handler: Handler) =>
    cmd.action(async (...args: unknown[]) => {
      const self = args[args.length - 1] as Command;
      const opts = self.optsWithGlobals<GlobalOptions & Record<string, unknown>>();
      const session = new Session(resolveRoot(opts));
      try {
        hooks.done(await handler(session, opts, self));
      } finally {
        session.close();
      }
    });
  let declared = false;
  /** Declares top-level command `name` (with its subcommands), unless the command line runs another. */
  const declare = (name: string, body: () => void, aliases: string[] = []) => {
    if (only !== undefined && only !== name && !aliases.includes(only)) return;
    declared = true;
    body();
  };
  const lifecycle = () => import("./lifecycle.js");
  const query = () => import("./query.js");
  const audit = () => import("./audit.js");
  const journal = () => import("./journal.js");
  const system = () => import("./system.js");

  // ── containers ────────────────────────────────────────────────────────────────────────────
  declare("run", () => {
    act(
      containerFlags(command("run", "create, bootstrap and start a container; attached, exit with its exit code", {
        examples: ["berth run --rm busybox sh -c 'echo out; echo err >&2; exit 3'", "berth run -d --name w busybox sleep 1000", "berth run --rm -e GREETING=hi -m 64m --cpus 0.5 busybox env", "berth run --rm --rootfs /srv/rootfs /bin/true"],
      }))
        .option("--rm", "remove the container when it exits")
        .option("-d, --detach", "run in the background and print the id")
        .option("-i, --interactive", "keep stdin open (accepted; stdin is not forwarded yet)")
        .argument("[image]", "image name (busybox is built in), or the command when --rootfs is given")
        .argument("[command...]", "command and arguments (default: sh)")
        .passThroughOptions(),
      async (s, o, c) => (await lifecycle()).run(s, o as never, c.args),
    );
  });
  declare("create", () => {
    act(
      containerFlags(command("create", "create a container without starting it; prints the id", { examples: ["berth create --name w busybox sleep 1000", "berth start w"] }))
        .argument("[image]", "image name, or the command when --rootfs is given")
        .argument("[command...]", "command and arguments (default: sh)")
        .passThroughOptions(),
      async (s, o, c) => (await lifecycle()).create(s, o as never, c.args),
    );
  });
  declare("start", () => {
    act(
      command("start", "start created or stopped containers", { examples: ["berth start w", "berth start -a w"] })
        .option("-a, --attach", "stream the output and exit with the container's exit code")
        .argument("<id...>", "container ids"),
      async (s, o, c) => (await lifecycle()).start(s, o, c.args),
    );
  });
  declare("stop", () => {
    act(
      command("stop", "stop containers: the stop signal, then SIGKILL after the timeout", { examples: ["berth stop w", "berth stop -t 1 w", "berth stop -s SIGINT -t 5 w"] })
        .option("-t, --time <seconds>", "seconds to wait before SIGKILL (default: the container's stop timeout)")
        .option("-s, --signal <signal>", "signal to send first, name or number (default: the container's stop signal)")
        .argument("<id...>", "container ids"),
      async (s, o, c) => (await lifecycle()).stop(s, o, c.args),
    );
  });
  declare("kill", () => {
    act(
      command("kill", "send a signal to containers' init processes", { examples: ["berth kill w", "berth kill -s HUP w", "berth kill -s 15 w"] })
        .option("-s, --signal <signal>", "signal name or number", "SIGKILL")
        .argument("<id...>", "container ids"),
      async (s, o, c) => (await lifecycle()).kill(s, o as never, c.args),
    );
  });
  declare("rm", () => {
    act(
      command("rm", "remove containers (their history stays in the journal)", { examples: ["berth rm w", "berth rm -f w"] })
        .option("-f, --force", "stop a running container with SIGKILL first")
        .argument("<id...>", "container ids"),
      async (s, o, c) => (await lifecycle()).rm(s, o, c.args),
    );
  });
  declare("exec", () => {
    act(
      processFlags(command("exec", "run a command in a running container; exits with its code", { examples: ["berth exec w sh -c 'exit 5'", "berth exec -e A=1 -w /tmp w env", "berth exec -d w sleep 10"] }))
        .option("-d, --detach", "run in the background and print the process id")
        .option("-i, --interactive", "keep stdin open (accepted; stdin is not forwarded yet)")
        .argument("<id>", "container id")
        .argument("<command...>", "command and arguments")
        .passThroughOptions(),
      async (s, o, c) => (await lifecycle()).exec(s, o as never, c.args[0]!, c.args.slice(1)),
    );
  });
  declare("wait", () => {
    act(
      command("wait", "wait for containers to stop and print their exit codes", { examples: ["berth wait w"] }).argument("<id...>", "container ids"),
      async (s, _o, c) => (await lifecycle()).wait(s, c.args),
    );
  });
  declare("logs", () => {
    act(
      command("logs", "print a container's output", { examples: ["berth logs w", "berth logs -f --tail 10 w", "berth logs --since 10m -t --stderr w"] })
        .option("-f, --follow", "keep printing new output until init exits")
        .option("--since <time>", "only output since RFC 3339 time, Unix seconds, or a duration ago (10m)")
        .option("--until <time>", "only output until that time")
        .option("-n, --tail <n>", "only the last n lines (or all)")
        .option("-t, --timestamps", "prefix each line with its RFC 3339 time")
        .option("--stdout", "only stdout")
        .option("--stderr", "only stderr")
        .argument("<id>", "container id"),
      async (s, o, c) => (await query()).logs(s, o, c.args[0]!),
    );
  });
  declare("inspect", () => {
    act(
      command("inspect", "print containers' state as JSON", { examples: ["berth inspect w"] }).argument("<id...>", "container ids"),
      async (s, _o, c) => (await query()).inspect(s, c.args),
    );
  });
  declare("ls", () => {
    act(
      command("ls", "list containers", { format: true, examples: ["berth ls", "berth ls -a", "berth ls -q --filter status=running", "berth ls --format json"] })
        .alias("ps")
        .option("-a, --all", "include created and stopped containers")
        .option("-q, --quiet", "only ids")
        .option("--filter <key=value>", "status=S, id=PREFIX or label=K[=V] (repeatable)", collect, []),
      async (s, o) => (await query()).ls(s, o as never),
    );
  }, ["ps"]);
  declare("stats", () => {
    act(
      command("stats", "live resource usage: CPU %, memory, network and block I/O, pids", { format: true, examples: ["berth stats", "berth stats --no-stream w"] })
        .option("--no-stream", "print one reading and exit")
        .argument("[id...]", "container ids (default: all running)"),
      async (s, o, c) => (await query()).stats(s, o, c.args),
    );
  });
  declare("pause", () => {
    act(
      command("pause", "freeze every process of running containers (cgroup freezer)", { examples: ["berth pause w", "berth unpause w"] }).argument("<id...>", "container ids"),
      async (s, _o, c) => (await lifecycle()).pause(s, c.args),
    );
  });
  declare("unpause", () => {
    act(
      command("unpause", "thaw paused containers", { examples: ["berth unpause w"] }).argument("<id...>", "container ids"),
      async (s, _o, c) => (await lifecycle()).unpause(s, c.args),
    );
  });
  declare("bootstrap", () => {
    act(
      command("bootstrap", "prepare a created container's sandbox without starting init (low-level)", { examples: ["berth create --name w busybox sleep 9", "berth bootstrap w", "berth start w"] }).argument("<id...>", "container ids"),
      async (s, _o, c) => (await lifecycle()).bootstrap(s, c.args),
    );
  });
  declare("shutdown", () => {
    act(
      command("shutdown", "release a container's sandbox; it can be bootstrapped again (low-level)", { examples: ["berth shutdown w"] }).argument("<id...>", "container ids"),
      async (s, _o, c) => (await lifecycle()).shutdown(s, c.args),
    );
  });

  // ── audit ─────────────────────────────────────────────────────────────────────────────────
  declare("events", () => {
    act(
      command("events", "print journaled events, one per line; -f follows live", { format: true, examples: ["berth events --since 10m", "berth events --since @100 --until @200", "berth events -f --filter container=w --filter type=ProcessExited", "berth events --filter actor=0"] })
        .option("--since <time|@pos>", "from RFC 3339 time, Unix seconds, a duration ago (10m), or @POSITION (inclusive)")
        .option("--until <time|@pos>", "up to that time or @POSITION (inclusive)")
        .option("--filter <key=value>", "container=ID, type=TYPE or actor=UID (repeatable; types add up)", collect, [])
        .option("-f, --follow", "keep printing new events"),
      async (s, o) => (await audit()).events(s, o as never),
    );
  });
  declare("history", () => {
    act(
      command("history", "one container's whole lifecycle as a timeline (deleted containers too)", { format: true, examples: ["berth history w"] }).argument("<id>", "container id"),
      async (s, o, c) => (await audit()).history(s, o, c.args[0]!),
    );
  });

  declare("journal", () => {
    const jr = withExamples(program.command("journal").description("verify, export, import, replay and measure the journal"), ["berth journal verify", "berth journal export /tmp/j.berth", "berth journal replay /tmp/j.berth --at 42 --format json"]);
    const jcmd = (name: string, description: string, opts: { format?: boolean; examples: string[] }) => {
      const cmd = jr.command(name).description(description).option("--root <dir>", "berth root (overrides the global --root)");
      if (opts.format) cmd.addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table"));
      return withExamples(cmd, opts.examples);
    };
    act(jcmd("verify", "recompute the hash chain, check it against the exit acks under the root, and compare every snapshot with a re-fold: exit 0 with the head hash, or 1 naming the first bad position", { format: true, examples: ["berth journal verify"] }), async (s, o) => (await journal()).verify(s.root, o));
    act(jcmd("export", "write the whole journal to FILE", { examples: ["berth journal export /tmp/j.berth"] }).argument("<file>", "output file"), async (s, _o, c) => (await journal()).exportTo(s.root, c.args[0]!));
    act(jcmd("import", "load an exported FILE into a fresh root (its journal must be empty)", { examples: ["berth --root /tmp/copy journal import /tmp/j.berth"] }).argument("<file>", "exported file"), async (s, _o, c) => (await journal()).importFrom(s.root, c.args[0]!));
    act(
      jcmd("replay", "print the containers' projected state at a point of an exported FILE, without running any effect", { format: true, examples: ["berth journal replay /tmp/j.berth", "berth journal replay /tmp/j.berth --at 42 --format json", "berth journal replay /tmp/j.berth --at 2024-05-01T12:00:00Z"] })
        .option("--at <pos|time>", "a position (42 or @42) or a time (RFC 3339, or a duration ago); default: the end")
        .option("-a, --all", "include deleted containers")
        .argument("<file>", "exported file"),
      async (_s, o, c) => (await journal()).replay(c.args[0]!, o),
    );
    act(jcmd("stats", "event counts by type, file size and head position", { format: true, examples: ["berth journal stats"] }), async (s, o) => (await journal()).stats(s.root, o));
  });

  declare("system", () => {
    const sys = withExamples(program.command("system").description("the daemon's status, and pruning"), ["berth system info", "berth system prune -f", "berth system prune --orphans"]);
    const scmd = (name: string, description: string, opts: { format?: boolean; examples: string[] }) => {
      const cmd = sys.command(name).description(description).option("--root <dir>", "berth root (overrides the global --root)");
      if (opts.format) cmd.addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table"));
      return withExamples(cmd, opts.examples);
    };
    act(scmd("info", "the daemon's status: its journal (or what happened to it), containers and orphans", { format: true, examples: ["berth system info", "berth system info --format json"] }), async (s, o) => (await system()).info(s, o));
    act(
      scmd("prune", "remove stopped containers; with --orphans also kill and remove what the journal does not know", { examples: ["berth system prune", "berth system prune -f", "berth system prune --orphans -f"] })
        .option("-f, --force", "do not ask for confirmation")
        .option("--orphans", "also kill and remove orphans: runc containers, runtime services, mounts and directories under the root that the journal does not know"),
      async (s, o) => (await system()).prune(s, o),
    );
  });

  // ── images and the daemon ─────────────────────────────────────────────────────────────────
  declare("image", () => {
    const image = withExamples(program.command("image").description("manage images"), ["berth image import alpine.tar --name alpine"]);
    act(
      withExamples(image.command("import").description("import a `docker save` or OCI image-layout tarball as an image").option("--root <dir>", "berth root (overrides the global --root)")
        .requiredOption("--name <name>", "image name").argument("<file>", "tarball"), ["berth image import alpine.tar --name alpine", "berth run --rm alpine cat /etc/os-release"]),
      async (s, o, c) => {
        const { importImage } = await import("../vm/image-import.js");
        const r = await importImage(s.root, c.args[0]!, o.name as string);
        process.stdout.write(`imported ${r.name}: ${r.layers} layers into ${r.rootfs}\n`);
        return 0;
      },
    );
  });
  declare("daemon", () => {
    const daemonCmd = program
      .command("daemon")
      .description("run the daemon in the foreground (SIGTERM stops it; containers keep running)")
      .option("--root <dir>", "berth root (overrides the global --root)")
      .addOption(new Option("--driver <driver>", "runtime driver").choices(["runc", "process", "fake"]).default("runc"))
      .addOption(new Option("--sync <mode>", "journal durability: full survives power loss, normal may lose the last commits").choices(["full", "normal"]).default("full"))
      .option("--warm-services <n>", "runtime services kept started and idle, so bootstraps skip Node's start-up (0 disables)", "1")
      .option("--accept-journal-loss", "start although exit acks prove the journal lost acknowledged events; journals the loss (see docs/journal.md)");
    withExamples(daemonCmd, ["berth daemon", "berth daemon --root /tmp/berth --sync normal"]);
    daemonCmd.action(async (opts: { driver: string; sync: string; warmServices: string; acceptJournalLoss?: boolean }, self: Command) => {
      const root = resolveRoot(self.optsWithGlobals<GlobalOptions>());
      const { runDaemon } = await import("../daemon/main.js");
      await runDaemon(["--root", root, "--driver", opts.driver, "--sync", opts.sync, "--warm-services", opts.warmServices, ...(opts.acceptJournalLoss ? ["--accept-journal-loss"] : [])]);
      // The daemon now serves until SIGTERM; do not report an exit code.
    });
  });
  // Not a command (a typo, `help`): the full tree, for commander's suggestions and help.
  if (!declared) return buildProgram(hooks);
  return program;
}
