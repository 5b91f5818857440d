// A child process that appends to a journal until told to stop (or killed). Each command
// appends a batch of three events, so a whole commit is recognisable afterwards.
// Usage: node --import tsx journal-appender.ts PATH STREAM COUNT(0 = forever)
import { Journal } from "../../src/events/journal.js";

const [path, stream, countArg] = process.argv.slice(2) as [string, string, string];
const journal = await Journal.open(path, { exclusive: false });
const count = Number(countArg);
const signal = (n: number) => ({ type: "SignalSent" as const, data: { processId: `p${n}`, signal: "SIGTERM" } });
process.stdout.write("ready\n");
for (let i = 0; count === 0 || i < count; i++) {
  journal.append(stream, [signal(i), signal(i), signal(i)], "any", { commandId: `${stream}-${i}`, actor: { uid: 0, gid: 0, pid: process.pid } });
}
journal.close();
process.stdout.write("done\n");
