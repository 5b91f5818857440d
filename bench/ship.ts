// bench/ship: the fleet shipper (docs/fleet.md) against a real nats-server -js on loopback.
// 1. Single-event appends at the maximum synchronous=FULL rate for --seconds, with shipping off
//    and then on, in the same run: the append rate ratio (target >= 0.95) and whether the lag grows.
// 2. The lag (commit to the server's ack) p50 and p99 at --rate appends/s.
// 3. The catch-up rate over a --backlog event backlog, against a raw @nats-io/jetstream async
//    publisher of the same messages (same subjects, headers, ids, 256 in flight): target >= 0.8.
// Each measure starts once the shipper ships (its worker thread is up, connected and resumed);
// the time that took is reported on its own (under tsx it includes compiling the worker's modules).
// Usage: node --import tsx bench/ship.ts [--seconds 60] [--rate 1000] [--backlog 100000]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { containerStream, type BerthEvent } from "../src/events/catalogue.js";
import { Journal } from "../src/events/journal.js";
import { openFleet } from "../src/fleet/nats.js";
import { msgIdOf, rowHeaders } from "../src/fleet/message.js";
import { Shipper } from "../src/fleet/shipper.js";
import { fmt, percentile, report } from "./common.js";
import { startNats } from "../test/helpers/nats.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "60" }, rate: { type: "string", default: "1000" }, backlog: { type: "string", default: "100000" } } });
const seconds = Number(values.seconds), rate = Number(values.rate), backlog = Number(values.backlog);
const dir = mkdtempSync(join(tmpdir(), "berth-bench-ship-"));
const nats = await startNats();
const actor = { uid: 0, gid: 0, pid: process.pid };
const event = { type: "SignalSent", data: { processId: "init", signal: "SIGHUP" } } as unknown as BerthEvent;
let journals = 0;

const openJournal = () => Journal.open(join(dir, `j${journals++}.db`), { sync: "full" });
const append = (journal: Journal, i: number) => journal.append(containerStream(`c${i % 100}`), [event], "any", { actor });
const ship = (journal: Journal, node: string, onAcked?: (p: number) => void) =>
  new Shipper(journal, { servers: nats.url, node, statusPath: join(dir, `${node}.json`), onAcked });
const until = async (what: () => boolean) => {
  while (!what()) await new Promise((r) => setTimeout(r, 5));
};
const startUps: number[] = [];
/** Starts the shipper and resolves once it ships; records how long that took. */
async function started(shipper: Shipper): Promise<void> {
  const t = performance.now();
  shipper.start();
  await until(() => shipper.current().state === "shipping");
  startUps.push(performance.now() - t);
}

/** Appends as fast as FULL allows for `seconds`, yielding to the event loop every 10 ms as the daemon's I/O does. */
async function flatOut(journal: Journal, onSecond: () => void): Promise<number> {
  const start = performance.now();
  let n = 0;
  let nextSecond = start + 1000;
  while (performance.now() - start < seconds * 1000) {
    const slice = performance.now() + 10;
    while (performance.now() < slice) append(journal, n++);
    await yieldToLoop();
    if (performance.now() >= nextSecond) {
      onSecond();
      nextSecond += 1000;
    }
  }
  return n / ((performance.now() - start) / 1000);
}

async function appendRates(): Promise<void> {
  const off = await openJournal();
  const rateOff = await flatOut(off, () => {});
  off.close();
  const on = await openJournal();
  const shipper = ship(on, "flat");
  await started(shipper);
  const lags: number[] = [];
  const rateOn = await flatOut(on, () => lags.push(on.head().position - shipper.current().acked));
  await until(() => shipper.current().acked === on.head().position);
  await shipper.stop();
  on.close();
  const half = Math.floor(lags.length / 2);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  report(`appends at the maximum synchronous=FULL rate for ${seconds} s`, [
    ["appends/s, shipping off", fmt(rateOff, 0)],
    ["appends/s, shipping on", fmt(rateOn, 0)],
    ["ratio on/off (target >= 0.95)", fmt(rateOn / rateOff, 3)],
    ["lag, positions, sampled each second", lags.join(" ")],
    ["mean lag, first half -> second half", `${fmt(avg(lags.slice(0, half)), 0)} -> ${fmt(avg(lags.slice(half)), 0)}`],
  ]);
}

async function pacedLag(): Promise<void> {
  const journal = await openJournal();
  const committed = new Map<number, number>();
  const lags: number[] = [];
  let lastAcked = 0;
  const shipper = ship(journal, "paced", (acked) => {
    const now = performance.now();
    for (let p = lastAcked + 1; p <= acked; p++) {
      lags.push(now - committed.get(p)!);
      committed.delete(p);
    }
    lastAcked = acked;
  });
  await started(shipper);
  const duration = Math.min(seconds, 20) * 1000;
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < duration) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; n < due; n++) committed.set(append(journal, n).events[0]!.position, performance.now());
    await new Promise((r) => setTimeout(r, 1));
  }
  await until(() => lastAcked === journal.head().position);
  await shipper.stop();
  journal.close();
  report(`lag from commit to the server's ack at ${rate} appends/s for ${duration / 1000} s`, [
    ["events", lags.length],
    ["p50 ms", fmt(percentile(lags, 50))],
    ["p99 ms", fmt(percentile(lags, 99))],
  ]);
}

async function catchUp(): Promise<void> {
  const journal = await openJournal();
  for (let i = 0; i < backlog; i += 1000) journal.batch(() => {
    for (let j = i; j < Math.min(backlog, i + 1000); j++) append(journal, j);
  });
  const shipper = ship(journal, "backlog");
  await started(shipper);
  let start = performance.now();
  const from = shipper.current().acked;
  await until(() => shipper.current().acked === backlog);
  const shipperRate = (backlog - from) / ((performance.now() - start) / 1000);
  await shipper.stop();
  // The same messages through a bare async publisher, 256 in flight, into a stream of its own.
  const fleet = await openFleet({ servers: nats.url }, "raw");
  await fleet.jsm.streams.add({ name: "RAW", subjects: ["raw.>"] });
  start = performance.now();
  for (let after = 0; after < backlog; ) {
    const rows = journal.rowsAfter(after, 256);
    await Promise.all(rows.map((row) => fleet.js.publish(`raw.backlog.container.${row.stream_id.slice(10)}`, row.body, { msgID: msgIdOf("backlog", row.position), headers: rowHeaders(row, "backlog", "raw") })));
    after = rows.at(-1)!.position;
  }
  const rawRate = backlog / ((performance.now() - start) / 1000);
  await fleet.nc.close();
  journal.close();
  report(`catch-up over a ${backlog}-event backlog`, [
    ["shipper events/s", fmt(shipperRate, 0)],
    ["raw @nats-io/jetstream publisher events/s", fmt(rawRate, 0)],
    ["ratio (target >= 0.8)", fmt(shipperRate / rawRate, 3)],
  ]);
  report("shipper start-up (start() to shipping: worker thread, connect, claim, resume)", [["ms, each start", startUps.map((t) => fmt(t, 0)).join(" ")]]);
}

try {
  await appendRates();
  await pacedLag();
  await catchUp();
} finally {
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
}
