// Issue 16: bad network input gets a clear, typed error, and neither the journal nor the host
// changes: an overlapping subnet, an unknown network, a bad port spec, a host port in use, and
// the removal of a network a container uses. The daemon keeps serving after each.
import net from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { berth, journalHead } from "./helpers/cli-env.js";
import { assertHostUnchanged, holdings, hostNetState, httpd, withNetDaemon } from "./helpers/network.js";

/** Runs `args`, which must fail with exit `code` and a message matching `message`, changing nothing. */
async function refused(root: string, args: string[], code: number, message: RegExp): Promise<void> {
  const journal = await journalHead(root);
  const host = hostNetState();
  const held = holdings(root);
  const r = await berth(root, args);
  assert.is(r.code, code, `berth ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, message);
  assert.equal(await journalHead(root), journal, `berth ${args.join(" ")} journaled nothing`);
  assert.equal(holdings(root), held, `berth ${args.join(" ")} plumbed nothing`);
  assertHostUnchanged(host, `berth ${args.join(" ")}`);
  assert.is((await berth(root, ["network", "ls", "-q"])).code, 0, "the daemon still serves");
}

test("overlapping subnet, unknown network, bad port spec, host port in use, network rm in use: typed errors, no change", () =>
  withNetDaemon(async (root) => {
    assert.is((await berth(root, ["network", "create", "--subnet", "10.89.240.0/24", "first"])).code, 0);
    await refused(root, ["network", "create", "--subnet", "10.89.240.128/25", "second"], 125, /^berth: invalidArgument: subnet 10\.89\.240\.128\/25 overlaps network first \(10\.89\.240\.0\/24\)/);
    await refused(root, ["network", "create", "first"], 125, /^berth: exists: network first already exists/);
    await refused(root, ["network", "create", "--subnet", "10.89.241.0/33", "third"], 125, /invalidArgument/);
    await refused(root, ["run", "-d", "--network", "nosuch", "busybox", "true"], 125, /^berth: notFound: network nosuch not found/);
    await refused(root, ["run", "-d", "-p", "99999:80", "busybox", "true"], 125, /invalid port spec "99999:80"/);
    await refused(root, ["run", "-d", "-p", "80:http", "busybox", "true"], 125, /invalid port spec "80:http"/);
    await refused(root, ["network", "rm", "nosuch"], 125, /notFound: network nosuch not found/);
    await refused(root, ["network", "rm", "bridge"], 125, /invalidArgument: network bridge is the default network/);

    // A port a host process listens on: refused before any CNI ADD.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      await refused(root, ["run", "-d", "--name", "taken", "-p", `127.0.0.1:${port}:80`, "busybox", ...httpd("x")], 125, new RegExp(`^berth: exists: host port ${port}/tcp is already in use by a process on the host`));
    } finally {
      server.close();
    }

    // A network in use stays.
    assert.is((await berth(root, ["run", "-d", "--name", "user", "--network", "first", "busybox", "sleep", "1000"])).code, 0);
    await refused(root, ["network", "rm", "first"], 125, /invalidState: network first is in use by container user/);
  }, "bad input"));

test.run();
