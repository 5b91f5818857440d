// The network half of a container's boot and teardown (docs/network.md). Before the sandbox is
// created the container's network is plumbed (CNI ADD into a namespace of its own) and the
// attachment journaled; once the sandbox is gone it is DELed and the detachment journaled.
// The rule is written once, in release(): a container without a sandbox holds no network.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { decideNetwork, networkProblem, type NetworkCommand } from "../commands/network.js";
import { BerthError } from "../model/errors.js";
import { DEFAULT_NETWORK, parseCidr, parseExposed, parseNetworkMode, type Cidr, type NetworkAttachment, type NetworkDefinition, type PortMapping } from "../model/network.js";
import { hasSandbox } from "../model/lifecycle.js";
import { containerStream, NETWORK_STREAM, type NetworkDetachReason, type StoredEvent } from "../events/catalogue.js";
import type { ContainerConfig } from "../model/config.js";
import type { ContainerState } from "../projections/container.js";
import { attachedTo, networksOf } from "../projections/index.js";
import { PRIVATE_NETWORK, type SandboxNetwork } from "../vm/driver.js";
import { rewriteHosts, writeEtcFiles, type HostsEntry } from "../vm/network/etc-files.js";
import { resolveHostPorts } from "../vm/network/host-ports.js";
import type { Networking } from "../vm/network/networking.js";
import { containerPaths } from "../vm/paths.js";
import type { Store } from "./store.js";

type Meta = { causationId?: string; correlationId?: string };
/** Who asked (a connect or disconnect is the client's, journaled under its command id). */
type ClientMeta = Parameters<Store["appendRaw"]>[3];

export class NetworkEffects {
  constructor(
    private readonly store: Store,
    private readonly root: string,
    /** Absent with the fake driver: networks are journaled, never plumbed. */
    private readonly networking: Networking | undefined,
  ) {}

  // --- network definitions ----------------------------------------------------------------

  /** Decides and journals a network command as `actor`; the events appended. */
  command(command: NetworkCommand, meta: Parameters<Store["appendRaw"]>[3] = {}): StoredEvent[] {
    const decision = decideNetwork(this.store.projection, command, { id: randomBytes(6).toString("hex"), bridgePrefix: this.networking?.bridgePrefix ?? "bt000000", hostRoutes: hostRoutes(), poolOffset: this.poolOffset() });
    if (!decision.ok) throw BerthError.from(decision.error);
    const before = networksOf(this.store.projection);
    const events = this.store.appendRaw(NETWORK_STREAM, decision.events, "any", meta);
    for (const e of events) {
      if (e.type === "NetworkCreated") this.networking?.writeConfList(e.data);
      if (e.type === "NetworkRemoved") this.networking?.forget(before[e.data.name]!);
    }
    return events;
  }

  /** The default network, created (as the daemon) the first time anything needs it. */
  ensureDefault(): NetworkDefinition {
    const existing = networksOf(this.store.projection)[DEFAULT_NETWORK];
    if (existing) return existing;
    this.command({ type: "networkCreate", name: DEFAULT_NETWORK, builtin: true });
    return networksOf(this.store.projection)[DEFAULT_NETWORK]!;
  }

  // Two roots start their search for a free /24 apart, so their default bridges rarely meet.
  private poolOffset(): number {
    return parseInt(this.networking?.bridgePrefix.slice(2, 4) ?? "00", 16);
  }

  // --- a container's boot and teardown ----------------------------------------------------

  /** Before the sandbox is created: its network, plumbed and journaled, and its /etc files. */
  async prepare(id: string, meta: Meta): Promise<SandboxNetwork> {
    const state = this.store.container(id)!;
    const etc = containerPaths(this.root, id).etc;
    const mode = parseNetworkMode(state.config.network);
    switch (mode.kind) {
      case "none":
      case "host":
        writeEtcFiles(etc, state.config, mode.kind === "host", undefined, []);
        return { namespace: mode.kind === "host" ? "host" : "private", etc };
      case "container": {
        const other = this.runningContainer(mode.container);
        return { namespace: { path: `/proc/${other.processes[other.id]!.pid}/ns/net` }, etc: containerPaths(this.root, other.id).etc };
      }
      case "network": {
        if (!this.networking) return PRIVATE_NETWORK;
        await this.release(id, "recovered"); // a boot performed again after a crash starts clean
        const network = networksOf(this.store.projection)[mode.name];
        if (!network) throw new BerthError("notFound", `network ${mode.name} not found: it was removed after the container was created`);
        const attachment = await this.networking.attach(id, network, { ifname: "eth0", ports: this.hostPorts(id, state.config), aliases: state.config.aliases ?? [], ...(state.config.ip ? { ip: state.config.ip } : {}), ...(state.config.mac ? { mac: state.config.mac } : {}) });
        this.store.record(id, [{ type: "NetworkAttached", data: attachment }], meta);
        const { self, peers } = this.hostsOf(this.store.container(id)!);
        writeEtcFiles(etc, state.config, false, self, peers);
        this.refreshPeers(network.name, id);
        return { namespace: { path: this.networking.netnsPath(id) }, etc };
      }
    }
  }

  /** The container another one joins (`--network container:X`): by id or name, running. */
  private runningContainer(ref: string): ContainerState {
    const other = this.store.container(ref) ?? Object.values(this.store.projection.containers).find((c) => c.name === ref);
    const pid = other?.processes[other.id]?.pid;
    if (!other || other.status !== "running" || pid === undefined) throw new BerthError("invalidState", `cannot join the network of container ${ref}: it is not running`);
    return other;
  }

  /**
   * For `run`, before anything is journaled: `exists` when a host port it asks for is taken, so
   * a refused run leaves no container behind (docker's leaves a created one).
   */
  assertPortsFree(id: string, config: ContainerConfig): void {
    if (this.networking && parseNetworkMode(config.network).kind === "network") this.hostPorts(id, config);
  }

  /** The config's ports and, with -P, its exposed ports, each with its host port; `exists` if one is taken. */
  private hostPorts(id: string, config: ContainerConfig): PortMapping[] {
    const wanted = [...(config.ports ?? [])];
    if (config.publishAll) {
      for (const spec of config.exposed ?? []) {
        const exposed = parseExposed(spec);
        if (!exposed.ok) continue;
        for (const e of exposed.value) if (!wanted.some((w) => w.containerPort === e.port && w.protocol === e.protocol)) wanted.push({ hostIp: "", hostPort: 0, containerPort: e.port, protocol: e.protocol });
      }
    }
    const held = new Set<string>();
    for (const c of Object.values(this.store.projection.containers)) {
      if (c.id === id) continue;
      for (const a of Object.values(c.networks ?? {})) for (const p of a.ports) held.add(`${p.protocol}:${p.hostPort}`);
    }
    return resolveHostPorts(wanted, held);
  }

  /**
   * After the sandbox is gone (or before a boot starts over): every attachment DELed and its
   * detachment journaled, then what the journal never knew of (an ADD the daemon died in), and
   * the namespace. Idempotent; does nothing while the container has a sandbox.
   */
  async release(id: string, reason: NetworkDetachReason, meta: Meta = {}): Promise<void> {
    if (!this.networking) return;
    const state = this.store.container(id);
    if (state && hasSandbox(state.status) && reason === "stopped") return;
    for (const attachment of Object.values(state?.networks ?? {})) {
      const record = this.networking.record(id, attachment.network);
      if (record) await this.networking.detach(record);
      this.store.record(id, [{ type: "NetworkDetached", data: { ...attachment, reason } }], meta);
      this.refreshPeers(attachment.network, id);
    }
    for (const record of this.networking.records(id)) await this.networking.detach(record);
    this.networking.removeNamespace(id);
  }

  // --- network connect / disconnect (a running container; the caller holds its queue) -------

  /** One more network for a running container: a CNI ADD into its namespace, as the next free ethN. */
  async connect(id: string, name: string, options: { aliases: string[]; ip?: string }, meta: ClientMeta): Promise<NetworkAttachment> {
    const state = this.connectable(id, name);
    if (state.networks?.[name]) throw new BerthError("exists", `container ${state.name ?? id} is already connected to network ${name}`);
    const network = networksOf(this.store.projection)[name];
    if (!network) throw new BerthError("notFound", `network ${name} not found`);
    const problem = options.ip === undefined ? undefined : networkProblem(this.store.projection, { ...state.config, network: name, ip: options.ip });
    if (problem) throw BerthError.from(problem);
    const taken = new Set(Object.values(state.networks ?? {}).map((a) => a.interface));
    let n = 0;
    while (taken.has(`eth${n}`)) n++;
    const attachment = await this.networking!.attach(id, network, { ifname: `eth${n}`, ports: [], aliases: options.aliases, ...(options.ip ? { ip: options.ip } : {}) });
    this.store.appendRaw(containerStream(id), [{ type: "NetworkAttached", data: attachment }], "any", meta);
    this.rewriteHostsOf(this.store.container(id)!);
    this.refreshPeers(name, id);
    return attachment;
  }

  /** Takes a running container off a network: its CNI DEL, journaled as disconnected. */
  async disconnect(id: string, name: string, meta: ClientMeta): Promise<void> {
    const state = this.connectable(id, name);
    const attachment = state.networks?.[name];
    if (!attachment) throw new BerthError("notFound", `container ${state.name ?? id} is not connected to network ${name}`);
    const record = this.networking!.record(id, name);
    if (record) await this.networking!.detach(record);
    this.store.appendRaw(containerStream(id), [{ type: "NetworkDetached", data: { ...attachment, reason: "disconnected" } }], "any", meta);
    this.rewriteHostsOf(this.store.container(id)!);
    this.refreshPeers(name, id);
  }

  /** A running container with a network namespace of its own (not host, none or another's). */
  private connectable(id: string, name: string): ContainerState {
    const state = this.store.container(id);
    if (!state || state.status === "deleted") throw new BerthError("notFound", `no such container: ${id}`);
    const mode = parseNetworkMode(state.config.network);
    if (mode.kind !== "network") throw new BerthError("invalidArgument", `container ${state.name ?? id} uses --network ${state.config.network}: it has no network namespace of its own to connect to ${name}`);
    if (state.status !== "running" || !this.networking) throw new BerthError("invalidState", `container ${state.name ?? id} is ${state.status}: network connect and disconnect need a running container`);
    return state;
  }

  /**
   * At start, after the containers are recovered: what a crash left between a CNI call and its
   * event. Attachments of containers without a sandbox are released, records and namespaces the
   * journal does not know are DELed and removed, and the held ones are CHECKed.
   */
  async reconcile(): Promise<{ released: number; checked: number; problems: string[] }> {
    const out = { released: 0, checked: 0, problems: [] as string[] };
    if (!this.networking) return out;
    const containers = this.store.projection.containers;
    for (const c of Object.values(containers)) {
      if (hasSandbox(c.status) || Object.keys(c.networks ?? {}).length === 0) continue;
      await this.release(c.id, "recovered");
      out.released += 1;
    }
    for (const record of this.networking.records()) {
      const c = containers[record.containerId];
      if (c?.networks?.[record.network.name] && hasSandbox(c.status)) continue;
      await this.networking.detach(record).catch((err) => out.problems.push(`cannot DEL ${record.containerId} from ${record.network.name}: ${(err as Error).message}`));
      out.released += 1;
    }
    // Leases no record accounts for (host-local reserved, then the daemon died before the record).
    const held = new Set(this.networking.records().map((r) => `${this.networking!.leaseDir(r.network)}/${r.containerId}`));
    for (const lease of this.networking.leases()) {
      if (held.has(`${lease.dir}/${lease.containerId}`)) continue;
      this.networking.dropLease(lease);
      out.released += 1;
    }
    for (const id of this.networking.namespaces()) {
      const c = containers[id];
      if (!c || !hasSandbox(c.status)) this.networking.removeNamespace(id);
    }
    await this.networking.restoreRules().catch((err) => out.problems.push(`cannot restore the bridges' rules: ${(err as Error).message}`));
    for (const c of Object.values(containers)) {
      if (!hasSandbox(c.status)) continue;
      for (const a of Object.values(c.networks ?? {})) {
        const record = this.networking.record(c.id, a.network);
        out.checked += 1;
        if (!record) out.problems.push(`container ${c.id} holds ${a.address} on ${a.network}, but its attachment record is gone`);
        else await this.networking.check(record).catch((err) => out.problems.push(`CHECK of ${c.id} on ${a.network} failed: ${(err as Error).message}`));
      }
    }
    return out;
  }

  // --- names --------------------------------------------------------------------------------

  /** Its address with its names: the hostname, and on a user-defined network its name and aliases too. */
  private hostsEntry(state: ContainerState, attachment: NetworkAttachment): HostsEntry {
    const userDefined = networksOf(this.store.projection)[attachment.network]?.builtin === false;
    const names = [state.config.hostname, ...(userDefined ? [state.name ?? state.id, ...attachment.aliases] : [])];
    return { ip: attachment.address.split("/")[0]!, names: [...new Set(names)] };
  }

  /**
   * What the container's /etc/hosts lists: itself on its first network, and everyone it shares
   * a user-defined network with (docker's default bridge resolves no names).
   */
  private hostsOf(c: ContainerState): { self: HostsEntry | undefined; peers: HostsEntry[] } {
    const attachments = Object.values(c.networks ?? {});
    const peers = attachments.flatMap((a) => {
      if (networksOf(this.store.projection)[a.network]?.builtin !== false) return [];
      return attachedTo(this.store.projection, a.network).filter((p) => p.id !== c.id).map((p) => this.hostsEntry(p, p.networks![a.network]!));
    });
    return { self: attachments[0] && this.hostsEntry(c, attachments[0]), peers };
  }

  private rewriteHostsOf(c: ContainerState): void {
    const { self, peers } = this.hostsOf(c);
    rewriteHosts(containerPaths(this.root, c.id).etc, c.config, self, peers);
  }

  /** Rewrites the /etc/hosts of everyone else on the network: `changed` joined or left it. */
  private refreshPeers(network: string, changed: string): void {
    if (networksOf(this.store.projection)[network]?.builtin !== false) return;
    for (const c of attachedTo(this.store.projection, network)) if (c.id !== changed) this.rewriteHostsOf(c);
  }
}

/** The host's routed IPv4 subnets (/proc/net/route), which a picked subnet must avoid. */
function hostRoutes(): Cidr[] {
  let text = "";
  try {
    text = readFileSync("/proc/net/route", "utf8");
  } catch {
    return [];
  }
  const routes: Cidr[] = [];
  for (const line of text.split("\n").slice(1)) {
    const [, dest, , , , , , mask] = line.trim().split(/\s+/);
    if (!dest || !mask || dest === "00000000") continue; // the default route covers everything: skip it
    const le = (hex: string) => Number.parseInt(hex.match(/../g)!.reverse().join(""), 16) >>> 0;
    const prefix = le(mask).toString(2).replace(/0+$/, "").length;
    const cidr = parseCidr(`${[24, 16, 8, 0].map((s) => (le(dest) >>> s) & 255).join(".")}/${prefix}`);
    if (cidr.ok) routes.push(cidr.value);
  }
  return routes;
}
