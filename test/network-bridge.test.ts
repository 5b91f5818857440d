// Issue 16: containers on the default bridge and on user-defined networks, through the real CNI
// plugins under the real runc/conmon driver. Traffic goes only to loopback and to the addresses
// of the containers each test created; every test leaves the host's network state as it was.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cidrContains, parseCidr, parseIp } from "../src/model/network.js";
import { berth } from "./helpers/cli-env.js";
import { journalEvents } from "./helpers/daemon.js";
import { addressOf, httpd, withNetDaemon } from "./helpers/network.js";

const ok = async (root: string, args: string[]) => {
  const r = await berth(root, args);
  assert.is(r.code, 0, `berth ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

test("two containers on the default bridge: addresses from its subnet, ping, and httpd fetched by wget", () =>
  withNetDaemon(async (root) => {
    await ok(root, ["run", "-d", "--name", "web", "busybox", ...httpd("hello-bridge")]);
    await ok(root, ["run", "-d", "--name", "client", "busybox", "sleep", "1000"]);
    const subnet = JSON.parse(await ok(root, ["network", "inspect", "bridge"]))[0].IPAM.Config[0].Subnet as string;
    const web = await addressOf(root, "web");
    const client = await addressOf(root, "client");
    const cidr = parseCidr(subnet);
    assert.ok(cidr.ok);
    for (const a of [web, client]) assert.ok(cidrContains(cidr.value, parseIp(a)!), `${a} is in ${subnet}`);
    assert.is.not(web, client);
    // Outbound masquerade is on, as docker's: one rule for the subnet (never exercised: no traffic leaves the host).
    const nat = execFileSync("iptables", ["-w", "-t", "nat", "-S", "POSTROUTING"], { encoding: "utf8" });
    assert.match(nat, new RegExp(`-A POSTROUTING -s ${subnet.replace(/\./g, "\\.")} ! -d 224\\.0\\.0\\.0/4 ! -o bt\\w+ .*-j MASQUERADE`));
    assert.match(await ok(root, ["exec", "client", "ping", "-c", "1", "-W", "5", web]), /1 packets received/);
    assert.is(await ok(root, ["exec", "client", "wget", "-q", "-O", "-", `http://${web}/`]), "hello-bridge\n");
    // The journal holds the topology, and history tells it.
    const attached = (await journalEvents(root)).filter((e) => e.type === "NetworkAttached" && e.streamId.endsWith("web"));
    assert.is(attached.length, 1);
    assert.is((attached[0]!.data as { address: string }).address.split("/")[0], web);
    assert.match(await ok(root, ["history", "web"]), new RegExp(`attached to bridge as ${web.replace(/\./g, "\\.")}`));
    // The default bridge resolves no names, as docker's.
    const byName = await berth(root, ["exec", "client", "ping", "-c", "1", "-W", "1", "web"]);
    assert.is.not(byName.code, 0);
  }, "default bridge"));

test("a user-defined network: names and aliases resolve, /etc/hosts follows joins and leaves, another network cannot reach in", () =>
  withNetDaemon(async (root) => {
    await ok(root, ["network", "create", "--subnet", "10.89.250.0/24", "appnet"]);
    await ok(root, ["network", "create", "othernet"]);
    await ok(root, ["run", "-d", "--name", "db", "--network", "appnet", "--network-alias", "database", "busybox", ...httpd("from-db")]);
    await ok(root, ["run", "-d", "--name", "app", "--network", "appnet", "busybox", "sleep", "1000"]);
    await ok(root, ["run", "-d", "--name", "stranger", "--network", "othernet", "busybox", "sleep", "1000"]);
    const db = await addressOf(root, "db", "appnet");
    assert.match(db, /^10\.89\.250\.\d+$/);
    for (const name of ["db", "database"]) assert.is(await ok(root, ["exec", "app", "wget", "-q", "-O", "-", `http://${name}/`]), "from-db\n", name);
    // db was there first: its /etc/hosts learnt of app when app joined.
    assert.match(await ok(root, ["exec", "db", "cat", "/etc/hosts"]), /\tapp\n/);
    // Isolation: neither by name nor by address from the other network.
    assert.is.not((await berth(root, ["exec", "stranger", "wget", "-q", "-T", "2", "-O", "-", `http://${db}/`])).code, 0);
    assert.is.not((await berth(root, ["exec", "stranger", "ping", "-c", "1", "-W", "1", "db"])).code, 0);
    // app leaves: db's /etc/hosts forgets it.
    await ok(root, ["rm", "-f", "app"]);
    assert.not.match(await ok(root, ["exec", "db", "cat", "/etc/hosts"]), /\tapp\n/);
    const ls = await ok(root, ["network", "ls"]);
    for (const n of ["bridge", "appnet", "othernet", "none", "host"]) assert.match(ls, new RegExp(`\\b${n}\\b`));
  }, "user-defined network"));

test("network connect and disconnect: a running container gets one more interface and names there, journaled as the client's, and gives them back", () =>
  withNetDaemon(async (root, frame) => {
    await ok(root, ["network", "create", "backend"]);
    await ok(root, ["run", "-d", "--name", "db", "--network", "backend", "busybox", ...httpd("from-db")]);
    await ok(root, ["run", "-d", "--name", "api", "busybox", "sleep", "1000"]);
    assert.is((await berth(root, ["exec", "api", "wget", "-q", "-T", "2", "-O", "-", "http://db/"])).code === 0, false, "api is not on backend yet");
    await ok(root, ["network", "connect", "--alias", "gateway", "backend", "api"]);
    assert.is(await ok(root, ["exec", "api", "ls", "/sys/class/net"]), "eth0\neth1\nlo\n");
    assert.is(await ok(root, ["exec", "api", "wget", "-q", "-O", "-", "http://db/"]), "from-db\n");
    assert.match(await ok(root, ["exec", "db", "cat", "/etc/hosts"]), /\tapi gateway\n/, "db learnt api's name and alias");
    const second = await berth(root, ["network", "connect", "backend", "api"]);
    assert.is(second.code, 125);
    assert.match(second.stderr, /exists: container api is already connected to network backend/);
    await ok(root, ["network", "disconnect", "backend", "api"]);
    assert.is(await ok(root, ["exec", "api", "ls", "/sys/class/net"]), "eth0\nlo\n");
    assert.not.match(await ok(root, ["exec", "db", "cat", "/etc/hosts"]), /\tapi/);
    const events = (await journalEvents(root)).filter((e) => e.streamId.endsWith("-api") && e.type.startsWith("Network"));
    assert.equal(events.map((e) => [e.type, (e.data as { network: string }).network]), [["NetworkAttached", "bridge"], ["NetworkAttached", "backend"], ["NetworkDetached", "backend"]]);
    assert.ok(events[1]!.actor?.pid !== undefined && events[1]!.actor.pid !== frame.daemon.child.pid, "the connect is the client's");
    assert.is(events[0]!.actor?.pid, frame.daemon.child.pid, "the boot's attach is the daemon's");
    assert.is((events[2]!.data as { reason: string }).reason, "disconnected");
    const stopped = await berth(root, ["network", "disconnect", "backend", "nosuch"]);
    assert.match(stopped.stderr, /notFound/);
  }, "connect and disconnect"));

test("published ports: a fixed one answers on 127.0.0.1, -p 80 gets a port that `berth port` reports, a taken one is refused with nothing left", () =>
  withNetDaemon(async (root) => {
    await ok(root, ["run", "-d", "--name", "fixed", "-p", "127.0.0.1:18080:80", "busybox", ...httpd("fixed-port")]);
    assert.is(await fetchText("http://127.0.0.1:18080/"), "fixed-port\n");
    await ok(root, ["run", "-d", "--name", "picked", "-p", "80", "busybox", ...httpd("picked-port")]);
    const port = (await ok(root, ["port", "picked"])).trim();
    const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/.exec(port);
    assert.ok(m, port);
    assert.is(await fetchText(`http://127.0.0.1:${m![1]}/`), "picked-port\n");
    assert.match(await ok(root, ["ps"]), /127\.0\.0\.1:18080->80\/tcp/);
    // The same host port again: `exists` before anything is journaled or plumbed.
    const before = (await journalEvents(root)).length;
    const clash = await berth(root, ["run", "-d", "--name", "clash", "-p", "127.0.0.1:18080:80", "busybox", ...httpd("never")]);
    assert.is(clash.code, 125);
    assert.match(clash.stderr, /exists: host port 18080\/tcp is already published by another container/);
    assert.is((await journalEvents(root)).length, before, "nothing journaled");
    assert.match((await berth(root, ["inspect", "clash"])).stderr, /notFound/, "no container clash");
    assert.is(await fetchText("http://127.0.0.1:18080/"), "fixed-port\n", "the first still answers");
  }, "published ports"));

test("--network none has only lo, --network host sees the host's interfaces; both get /etc/hosts and /etc/resolv.conf", () =>
  withNetDaemon(async (root) => {
    const none = await ok(root, ["run", "--rm", "--network", "none", "busybox", "sh", "-c", "ls /sys/class/net; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf"]);
    const [links, hosts, resolv] = none.split("---\n");
    assert.is(links, "lo\n");
    assert.match(hosts!, /^127\.0\.0\.1\tlocalhost$/m);
    assert.equal(nameservers(resolv!), expectedNameservers(false));
    const host = await ok(root, ["run", "--rm", "--network", "host", "busybox", "sh", "-c", "ls /sys/class/net; echo ---; hostname; echo ---; cat /etc/resolv.conf"]);
    const [hostLinks, hostname, hostResolvConf] = host.split("---\n");
    assert.equal(hostLinks!.trim().split("\n").sort(), fs.readdirSync("/sys/class/net").sort());
    assert.is(hostname!.trim(), os.hostname());
    assert.equal(nameservers(hostResolvConf!), expectedNameservers(true));
    // --dns, --dns-search and --add-host on a container of its own network.
    const custom = await ok(root, ["run", "--rm", "--dns", "192.0.2.53", "--dns-search", "example.test", "--add-host", "db.test:192.0.2.7", "busybox", "sh", "-c", "cat /etc/resolv.conf; cat /etc/hosts"]);
    assert.match(custom, /^nameserver 192\.0\.2\.53\nsearch example\.test\n/);
    assert.match(custom, /^192\.0\.2\.7\tdb\.test$/m);
  }, "none and host"));

/** The host's nameservers, less the loopback ones unless the container shares the host's network (docker's rule). */
function expectedNameservers(hostMode: boolean): string[] {
  const servers = fs.readFileSync("/etc/resolv.conf", "utf8").split("\n").map((l) => l.trim().split(/\s+/)).filter((f) => f[0] === "nameserver").map((f) => f[1]!);
  const kept = servers.filter((s) => hostMode || !(s.startsWith("127.") || s === "::1"));
  return kept.length || hostMode ? kept : ["8.8.8.8", "8.8.4.4"];
}

const nameservers = (resolvConf: string) => resolvConf.split("\n").filter((l) => l.startsWith("nameserver ")).map((l) => l.slice(11));

async function fetchText(url: string): Promise<string> {
  const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return r.text();
}

test.run();
