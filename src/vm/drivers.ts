// Picks a driver by name.
import { BerthError } from "../model/errors.js";
import type { Driver, DriverName, DriverOptions } from "./driver.js";
import { FakeDriver } from "./fake-driver.js";
import { RuncDriver } from "./runc.js";

export async function createDriver(name: DriverName, opts: DriverOptions): Promise<Driver> {
  switch (name) {
    case "runc":
      return new RuncDriver(opts);
    case "fake":
      return new FakeDriver(opts);
    default:
      throw new BerthError("invalidArgument", `unknown driver ${JSON.stringify(name)}: expected runc or fake`);
  }
}
