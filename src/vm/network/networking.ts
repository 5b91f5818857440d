// Plumbs containers into networks through the CNI plugins, and remembers on disk exactly what
// it ADDed, so that a DEL (now, after a crash, or after the network was removed) undoes just
// that. A record is written before its ADD and completed after it: recovery DELs a record the
// journal does not know, whichever half it has. One network's attaches and detaches run one at
// a time, so its bridge and isolation rules come and go with its first and last container.
import fs from "node:fs";
import { join } from "node:path";
import { BerthError } from "../../model/errors.js";
import type { NetworkAttachment, NetworkDefinition, PortMapping } from "../../model/network.js";
import { networkPaths, rootTag, type NetworkPaths } from "../paths.js";
import { addList, checkList, delList, type CniResult, type CniTarget, type ConfList } from "./cni.js";
import { confList } from "./conflist.js";
import { BRIDGE_PREFIX, bridgeExists, isolateBridge, pruneHostportChains, removeBridge, unisolateBridge } from "./host-firewall.js";
import { createNetns, removeNetns } from "./netns.js";

/** What was (or is being) ADDed for one container on one network. */
export interface AttachRecord {
  containerId: string;
  network: NetworkDefinition;
  ifname: string;
  runtimeConfig: Record<string, unknown>;
  /** The configuration list the ADD ran, which DEL and CHECK must run too. */
  confList: ConfList;
  /** The ADD's result; absent when the daemon died during the ADD. */
  result?: CniResult;
}

export interface AttachRequest {
  ifname: string;
  ports: PortMapping[];
  aliases: string[];
  ip?: string;
  mac?: string;
}

export class Networking {
  readonly paths: NetworkPaths;
  /** "bt" and the root's tag: every bridge of this root starts with it. */
  readonly bridgePrefix: string;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(readonly root: string) {
    this.paths = networkPaths(root);
    this.bridgePrefix = `${BRIDGE_PREFIX}${rootTag(root)}`;
  }

  netnsPath(containerId: string): string {
    return join(this.paths.netns, containerId);
  }

  private recordPath(containerId: string, network: string): string {
    return join(this.paths.attachments, containerId, `${network}.json`);
  }

  /** Runs `fn` after every earlier call for the same network has finished. */
  private serial<T>(network: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(network) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const settled = run.catch(() => {});
    this.locks.set(network, settled);
    void settled.then(() => this.locks.get(network) === settled && this.locks.delete(network));
    return run;
  }

  /** The network's conflist under the root (what a reader or the CNI tools see). */
  writeConfList(network: NetworkDefinition): void {
    fs.mkdirSync(this.paths.conflists, { recursive: true });
    fs.writeFileSync(join(this.paths.conflists, `${network.name}.conflist`), JSON.stringify(confList(network, this.paths.ipam, { ports: true, mac: true }), null, 2));
  }

  /** After NetworkRemoved: its conflist and host-local's lease directory (only its lock and last-reserved files are left by then). */
  forget(network: NetworkDefinition): void {
    fs.rmSync(join(this.paths.conflists, `${network.name}.conflist`), { force: true });
    fs.rmSync(join(this.paths.ipam, this.leaseDir(network)), { recursive: true, force: true });
  }

  attach(containerId: string, network: NetworkDefinition, request: AttachRequest): Promise<NetworkAttachment> {
    return this.serial(network.name, async () => {
      await createNetns(this.netnsPath(containerId));
      const runtimeConfig: Record<string, unknown> = {
        portMappings: request.ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, ...(p.hostIp ? { hostIP: p.hostIp } : {}) })),
      };
      if (request.ip) runtimeConfig.ips = [request.ip];
      if (request.mac) runtimeConfig.mac = request.mac;
      const list = confList(network, this.paths.ipam, { ports: request.ports.length > 0, mac: request.mac !== undefined });
      const record: AttachRecord = { containerId, network, ifname: request.ifname, runtimeConfig, confList: list };
      this.writeRecord(record);
      this.writeConfList(network);
      const fresh = !bridgeExists(network.bridge);
      record.result = await addList(list, this.target(record)).catch((err) => {
        fs.rmSync(this.recordPath(containerId, network.name), { force: true }); // the failed ADD was undone by its DEL
        throw err;
      });
      this.writeRecord(record);
      if (fresh) await isolateBridge(network);
      return attachmentOf(record, request);
    });
  }

  /** DELs what the record says was added; the last container of a network takes its bridge along. */
  detach(record: AttachRecord): Promise<void> {
    return this.serial(record.network.name, async () => {
      await delList(record.confList, this.target(record), record.result);
      fs.rmSync(this.recordPath(record.containerId, record.network.name), { force: true });
      if (record.confList.plugins.some((p) => p.type === "portmap")) await pruneHostportChains();
      if (this.records().some((r) => r.network.bridge === record.network.bridge)) return;
      await unisolateBridge(record.network.bridge);
      await removeBridge(record.network.bridge);
    });
  }

  /** At start: the rules of every bridge something is attached to (a crash may have come between its ADD and its rules). */
  async restoreRules(): Promise<void> {
    const networks = new Map(this.records().map((r) => [r.network.bridge, r.network]));
    for (const network of networks.values()) if (bridgeExists(network.bridge)) await isolateBridge(network);
  }

  /** CHECK: throws when the attachment no longer holds (its veth or address is gone). */
  async check(record: AttachRecord): Promise<void> {
    if (!record.result) throw new BerthError("internalError", `the ADD of ${record.containerId} on ${record.network.name} never completed`);
    await checkList(record.confList, this.target(record), record.result);
  }

  /** Removes the namespace once nothing is attached in it. */
  removeNamespace(containerId: string): void {
    removeNetns(this.netnsPath(containerId));
    fs.rmSync(join(this.paths.attachments, containerId), { recursive: true, force: true });
  }

  record(containerId: string, network: string): AttachRecord | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.recordPath(containerId, network), "utf8")) as AttachRecord;
    } catch {
      return undefined;
    }
  }

  /** Every record under the root: what is attached, or was being, whatever the journal says. */
  records(containerId?: string): AttachRecord[] {
    const ids = containerId ? [containerId] : listDir(this.paths.attachments);
    return ids.flatMap((id) => listDir(join(this.paths.attachments, id)).flatMap((file) => this.record(id, file.replace(/\.json$/, "")) ?? []));
  }

  /**
   * host-local's leases under the root: one file per address, named after it, holding the
   * container id and interface. A lease whose ADD record is gone (the daemon died between
   * host-local's reservation and the record, or a DEL half done) is one nothing will DEL.
   */
  leases(): { dir: string; address: string; containerId: string }[] {
    return listDir(this.paths.ipam).flatMap((dir) =>
      listDir(join(this.paths.ipam, dir))
        .filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))
        .map((address) => ({ dir, address, containerId: readText(join(this.paths.ipam, dir, address)).split(/\s/)[0]! })),
    );
  }

  /** Frees a lease no record accounts for (see leases()); what host-local's own DEL would do for it. */
  dropLease(lease: { dir: string; address: string }): void {
    fs.rmSync(join(this.paths.ipam, lease.dir, lease.address), { force: true });
  }

  /** host-local's directory of a network's leases. */
  leaseDir(network: NetworkDefinition): string {
    return confList(network, this.paths.ipam).name;
  }

  /** Containers with a namespace under the root. */
  namespaces(): string[] {
    return listDir(this.paths.netns);
  }

  private writeRecord(record: AttachRecord): void {
    const path = this.recordPath(record.containerId, record.network.name);
    fs.mkdirSync(join(this.paths.attachments, record.containerId), { recursive: true });
    fs.writeFileSync(`${path}.tmp`, JSON.stringify(record));
    fs.renameSync(`${path}.tmp`, path);
  }

  private target(record: AttachRecord): CniTarget {
    return { containerId: record.containerId, netns: this.netnsPath(record.containerId), ifname: record.ifname, runtimeConfig: record.runtimeConfig };
  }
}

function readText(path: string): string {
  try {
    return fs.readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((f) => !f.endsWith(".tmp"));
  } catch {
    return [];
  }
}

/** The journaled view of an ADD's result: the address and MAC of the container's interface. */
function attachmentOf(record: AttachRecord, request: AttachRequest): NetworkAttachment {
  const result = record.result!;
  const ip = result.ips?.[0];
  if (!ip) throw new BerthError("internalError", `CNI gave container ${record.containerId} no address on ${record.network.name}`);
  const iface = result.interfaces?.find((i) => i.name === record.ifname && i.sandbox) ?? (ip.interface !== undefined ? result.interfaces?.[ip.interface] : undefined);
  return {
    network: record.network.name,
    interface: record.ifname,
    address: ip.address,
    gateway: ip.gateway ?? record.network.gateway,
    mac: request.mac ?? iface?.mac ?? "",
    ports: request.ports,
    aliases: request.aliases,
  };
}
