// The shipper's worker thread: runs the ship loop (ship-loop.ts) off the daemon's thread, so
// the reads, headers, publishes and acks never take time from the appends (docs/fleet.md). It
// opens the journal read-only (WAL lets it read beside the writer; it takes no journal lock and
// writes nothing to the journal: the checkpoint goes back to the daemon's thread, which writes it).
//
// The doorbell, the stop and the acknowledged position pass through shared words
// (ship-thread.ts), so neither thread pays a message per commit; messages carry what is rare:
// the state, the checkpoint every 100 ms, and each window's ack when someone listens. The
// thread ends when the daemon stops it (or, once the loop failed for good, with the daemon).
import { parentPort, workerData } from "node:worker_threads";
import { Journal } from "../events/journal.js";
import { ShipLoop } from "./ship-loop.js";
import { SharedWords, type ShipWorkerData, type ShipWorkerMessage } from "./ship-thread.js";

const data = workerData as ShipWorkerData;
const port = parentPort!;
const shared = new SharedWords(data.shared);
const post = (message: ShipWorkerMessage) => port.postMessage(message);

const journal = await Journal.open(data.journalPath, { readonly: true });
const loop = new ShipLoop(journal, shared, data.options, {
  acked(position) {
    shared.acked = position;
    if (data.reportAcks) post({ type: "acked", position });
  },
  checkpoint: (position) => post({ type: "checkpoint", position }),
  status(status) {
    shared.acked = status.acked;
    post({ type: "status", status });
  },
});
loop.start();

await shared.stopped();
await loop.stop();
journal.close();
// Nothing is left to keep the thread alive: it ends, and its messages reach the daemon first.
