// Picks a driver by name. Only the chosen driver's module is loaded, to keep the runtime
// service's start-up cheap.
import { BerthError } from "../model/errors.js";
import type { Driver, DriverName, DriverOptions } from "./driver.js";

export async function createDriver(name: DriverName, opts: DriverOptions): Promise<Driver> {
  switch (name) {
    case "runc":
      return new (await import("./runc.js")).RuncDriver(opts);
    case "process":
      return new (await import("./process-driver.js")).ProcessDriver(opts);
    case "fake":
      return new (await import("./fake-driver.js")).FakeDriver(opts);
    default:
      throw new BerthError("invalidArgument", `unknown driver ${JSON.stringify(name)}: expected runc, process or fake`);
  }
}
