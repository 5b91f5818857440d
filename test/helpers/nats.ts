// A real nats-server with JetStream on loopback, on a free port, in its own store directory.
// Each test starts its own and always kills it (and removes the directory) at the end.
import { spawn, type ChildProcess } from "node:child_process";
import { connect, createServer } from "node:net";
import { tempDir } from "./tmp.js";

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** kill -9, then the same server again on the same port and store. */
  restart(): Promise<void>;
  kill9(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function startNats(extra: string[] = []): Promise<NatsServer> {
  const port = await freePort();
  const dir = tempDir("berth-nats-");
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = "";
  const start = async () => {
    child = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir.path, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d) => (log += d));
    child.stderr!.on("data", (d) => (log += d));
    const c = child;
    exited = new Promise((resolve) => c.once("exit", () => resolve()));
    for (let i = 0; i < 200; i++) {
      if (c.exitCode !== null) throw new Error(`nats-server exited: ${log}`);
      if (await listening(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nats-server did not listen on ${port}: ${log}`);
  };
  const kill = async (signal: NodeJS.Signals) => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await exited;
    }
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: dir.path,
    start,
    kill9: () => kill("SIGKILL"),
    async restart() {
      await kill("SIGKILL");
      await start();
    },
    async stop() {
      await kill("SIGKILL");
      dir.remove();
    },
  };
}

export async function withNats<T>(fn: (nats: NatsServer) => Promise<T>, extra: string[] = []): Promise<T> {
  const nats = await startNats(extra);
  try {
    return await fn(nats);
  } finally {
    await nats.stop();
  }
}
