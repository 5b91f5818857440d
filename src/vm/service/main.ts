// Entry of the runtime service process: `node main.js <root> <id>`. Started detached by
// startRuntimeService (src/vm/runtime.ts), which reads one JSON line from fd 3: {ok:true} once
// the sandbox is booted and the socket answers, or {ok:false,error} if bootstrap failed.
// Imports are kept to what the service needs: Node start-up is most of its cost.
import fs from "node:fs";
import { toBerthError } from "../../errors.js";
import { listen } from "../../ipc/server.js";
import type { DriverName } from "../driver.js";
import { createDriver } from "../drivers.js";
import { containerPaths } from "../paths.js";
import { readStartTime, type RuntimeEndpoint } from "../runtime-identity.js";
import { serviceRoutes } from "./routes.js";
import { RuntimeService } from "./service.js";
import type { ContainerConfig } from "../../commands/config.js";

function report(msg: unknown): void {
  try {
    fs.writeSync(3, `${JSON.stringify(msg)}\n`);
    fs.closeSync(3);
  } catch {
    /* no readiness pipe (started by hand) or the starter is gone: nothing to tell */
  }
}

async function main(): Promise<void> {
  const [root, id] = process.argv.slice(2);
  if (!root || !id) throw new Error("usage: main.js <root> <id>");
  const paths = containerPaths(root, id);
  const { config, driver: driverName, dynamicEnv } = JSON.parse(fs.readFileSync(paths.serviceConfig, "utf8")) as {
    config: ContainerConfig;
    driver: DriverName;
    dynamicEnv: Record<string, string>;
  };
  const driver = await createDriver(driverName, { root, id, config });
  await driver.prepare();
  const service = new RuntimeService(id, config, driver, paths, dynamicEnv ?? {});
  let exiting = false;
  const finish = () => {
    if (exiting) return;
    exiting = true;
    // Let the last reply reach its caller before the socket goes.
    // server.close() waits for connected clients; a client that never hangs up must not keep
    // the service alive, so the exit does not wait longer than a moment.
    const bye = () => {
      service.close();
      process.exit(0);
    };
    setTimeout(() => {
      void server.close().finally(bye);
      setTimeout(bye, 500).unref();
    }, 20);
  };
  service.onFinished = finish;
  const uid = process.getuid?.() ?? 0;
  const server = await listen({ socketPath: paths.socket, routes: serviceRoutes(service, finish), allowUids: [...new Set([0, uid])],
    // A bundled entry (bench, BERTH_SERVICE_ENTRY) cannot find the addon relative to itself.
    ...(process.env.BERTH_PEERCRED_ADDON ? { peercredAddon: process.env.BERTH_PEERCRED_ADDON } : {}),
  });
  const endpoint: RuntimeEndpoint = { pid: process.pid, startTime: readStartTime(process.pid)!, socket: paths.socket, driver: driverName };
  fs.writeFileSync(`${paths.runtimeJson}.tmp`, JSON.stringify(endpoint));
  fs.renameSync(`${paths.runtimeJson}.tmp`, paths.runtimeJson);
  // SIGTERM to the service means "release everything", as a shutdown call would.
  process.on("SIGTERM", () => void service.shutdown().finally(finish));
  process.on("SIGHUP", () => {});
  report({ ok: true, endpoint });
}

main().catch((err) => {
  const e = toBerthError(err);
  console.error(`runtime service failed: ${e.code}: ${e.message}`);
  report({ ok: false, error: e.toJSON() });
  process.exit(1);
});
