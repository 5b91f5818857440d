// docker's rules for what an image's config adds to a container's, beyond the process: the
// ExposedPorts `-P` publishes, and the Volumes and Healthcheck recorded for later features.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { validateConfig } from "../src/model/config.js";
import { imageExposedPorts, mergeImageConfig, type ImageConfig } from "../src/model/image.js";

const merge = (image: ImageConfig["config"], input: Record<string, unknown> = {}) => {
  const r = mergeImageConfig({ init: { args: [] }, ...input }, {}, { config: { Cmd: ["true"], ...image } });
  if (!r.ok) throw new Error(r.error.message);
  const v = validateConfig(r.value, "c");
  if (!v.ok) throw new Error(v.error.message);
  return v.value;
};

test("ExposedPorts: a bare port is tcp, udp stays udp, sctp and nonsense are passed over; --expose joins them", () => {
  assert.equal(imageExposedPorts({ "80/tcp": {}, "53/UDP": {}, "8080": {}, "9/sctp": {}, "0/tcp": {}, "x": {} }).sort(), ["53/udp", "80/tcp", "8080/tcp"]);
  assert.equal(merge({ ExposedPorts: { "80/tcp": {} } }, { exposed: ["80/tcp", "9000/tcp"] }).exposed, ["80/tcp", "9000/tcp"]);
  assert.is(merge({}).exposed, undefined);
});

test("Volumes and Healthcheck are recorded in the validated config; durations stay docker's nanoseconds", () => {
  const c = merge({ Volumes: { "/data": {}, "relative": {}, "/a/../b": {} }, Healthcheck: { Test: ["CMD-SHELL", "wget -q localhost"], Interval: 30e9, Timeout: 5e9, Retries: 3, StartPeriod: 0 } });
  assert.equal(c.volumes, ["/data"], "only absolute paths without ..");
  assert.equal(c.healthcheck, { test: ["CMD-SHELL", "wget -q localhost"], intervalNs: 30e9, timeoutNs: 5e9, retries: 3 });
  const none = merge({ Healthcheck: { Test: [] } });
  assert.is(none.healthcheck, undefined, "an empty Test inherits nothing");
  assert.is(none.volumes, undefined);
});

test("a config that says volumes or healthcheck badly is refused with invalidArgument", () => {
  for (const [extra, message] of [
    [{ volumes: ["data"] }, /volumes must be a list of absolute paths/],
    [{ healthcheck: { test: [] } }, /healthcheck.test must be a non-empty list of strings/],
    [{ healthcheck: { test: ["NONE"], retries: -1 } }, /healthcheck.retries must be a positive integer/],
  ] as const) {
    const r = validateConfig({ init: { args: ["true"] }, ...extra }, "c");
    assert.is(r.ok ? undefined : r.error.code, "invalidArgument");
    assert.match(r.ok ? "" : r.error.message, message);
  }
});

test.run();
