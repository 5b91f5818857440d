// isoTime must print exactly what Date#toISOString prints: exit records and logs written by the
// runtime service are read back with Date.parse and compared with the daemon's own timestamps.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isoTime } from "../src/model/iso-time.js";

const edges = [
  0, -1, 1, 999, 1000, 86_399_999, 86_400_000,
  951_782_400_000, // 2000-02-29, a leap day in a century year
  -2_203_891_200_000, // 1900-03-01, after the non-leap 1900-02-28
  4_107_542_399_999, // 2100-02-28T23:59:59.999Z
  -62_167_219_200_000, // 0000-01-01, the first four-digit instant
  253_402_300_799_999, // 9999-12-31T23:59:59.999Z, the last
  -62_167_219_200_001, 253_402_300_800_000, // six-digit years, delegated
  1.5, -1.5, 8.64e15, -8.64e15,
];

test("isoTime agrees with toISOString on calendar edges", () => {
  for (const ms of edges) assert.is(isoTime(ms), new Date(ms).toISOString(), `at ${ms}`);
});

test("isoTime agrees with toISOString across the whole Date range", () => {
  // A fixed linear congruential sequence: the same instants on every run.
  let seed = 42;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 200_000; i++) {
    const ms = Math.floor((next() * 2 - 1) * 8.64e15);
    assert.is(isoTime(ms), new Date(ms).toISOString(), `at ${ms}`);
    const recent = Math.floor(next() * 4.1e12); // 1970 to 2100, where real timestamps fall
    assert.is(isoTime(recent), new Date(recent).toISOString(), `at ${recent}`);
  }
});

test("isoTime refuses what Date refuses", () => {
  for (const ms of [NaN, Infinity, -Infinity, 8.64e15 + 1]) assert.throws(() => isoTime(ms), RangeError);
});

test.run();
