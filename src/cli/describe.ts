// How events read to a person: one line of key data for `berth events`, one sentence for
// `berth history`. Pure functions of the stored event.
import { containerIdOf, describeOrphan, orphanParts, type DetachReason, type NetworkDetachReason, type StoredEvent } from "../events/catalogue.js";
import { iso, shellQuote, truncate } from "./format.js";

export const actorText = (e: StoredEvent) => (e.actor ? `uid ${e.actor.uid} pid ${e.actor.pid}` : "-");

/** The key data of an event, as `key=value` pairs. */
export function keyData(e: StoredEvent): string {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case "ContainerCreated": {
      const c = e.data.config;
      return `image=${"image" in c.rootfs ? c.rootfs.image : c.rootfs.path}${"image" in c.rootfs && c.rootfs.resolved ? ` digest=${c.rootfs.resolved.manifest}` : ""} cmd=${JSON.stringify(shellQuote(c.init.args))}`;
    }
    case "ContainerBooted":
      return `runtimePid=${e.data.runtime.pid} driver=${e.data.runtime.driver}`;
    case "BootstrapFailed":
      return `error=${JSON.stringify(`${e.data.error.code}: ${e.data.error.message}`)}`;
    case "ProcessCreated":
      return `process=${e.data.processId} cmd=${JSON.stringify(shellQuote(e.data.spec.args))}`;
    case "ProcessStartFailed":
      return `process=${e.data.processId} error=${JSON.stringify(`${e.data.error.code}: ${e.data.error.message}`)}`;
    case "ProcessExited":
      return `process=${e.data.processId} pid=${e.data.pid} exitCode=${e.data.exitCode}${e.data.signal ? ` signal=${e.data.signal}` : ""}${e.data.oomKilled ? " oomKilled" : ""}`;
    case "ImageRemoved":
      return `reference=${e.data.reference} digest=${e.data.digest} freed=${e.data.freed.length}`;
    case "OrphanFound":
      return `id=${e.data.orphan.id} found=${JSON.stringify(orphanParts(e.data.orphan))}`;
    default:
      return Object.entries(d)
        .map(([k, v]) => `${k}=${typeof v === "string" ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
        .join(" ");
  }
}

/** One line of `berth events`: position, time, container, type, actor, key data. */
export function eventLine(e: StoredEvent): string {
  const container = containerIdOf(e.streamId) ?? e.streamId;
  return [String(e.position).padStart(6), iso(e.time), container.padEnd(14), e.type.padEnd(21), actorText(e).padEnd(18), keyData(e)].join("  ").trimEnd();
}

const DETACH_TEXT: Record<DetachReason, string> = {
  detached: "it detached",
  exited: "the process ended",
  clientGone: "clientGone (its connection closed without detaching)",
};

const who = (containerId: string, processId: string) => (processId === containerId ? "init" : `exec ${processId}`);

/** One sentence of `berth history`. */
export function historySentence(e: StoredEvent, containerId: string): string {
  switch (e.type) {
    case "ContainerCreated": {
      const c = e.data.config;
      const source = "image" in c.rootfs ? `image ${c.rootfs.image}${c.rootfs.resolved ? ` (${c.rootfs.resolved.manifest})` : ""}` : `rootfs ${c.rootfs.path}`;
      const extra = c.restart.name !== "no" ? ` (restart ${c.restart.name})` : c.autoRemove === true ? " (--rm)" : "";
      return `created from ${source}: ${shellQuote(c.init.args)}${extra}`;
    }
    case "BootstrapRequested":
      return "bootstrap requested";
    case "ContainerBooted":
      return `booted: ${e.data.runtime.monitor ?? "runtime service"} pid ${e.data.runtime.pid} (${e.data.runtime.driver})`;
    case "BootstrapFailed":
      return `bootstrap failed: ${e.data.error.code}: ${e.data.error.message}`;
    case "ProcessCreated":
      return `exec ${e.data.processId} registered: ${truncate(shellQuote(e.data.spec.args), 60)}`;
    case "ProcessStartRequested":
      return `start of ${who(containerId, e.data.processId)} requested`;
    case "ProcessStarted":
      return `${who(containerId, e.data.processId)} started (pid ${e.data.pid})`;
    case "ProcessStartFailed":
      return `${who(containerId, e.data.processId)} failed to start: ${e.data.error.message}`;
    case "SignalSent":
      return `signal ${e.data.signal} sent to ${who(containerId, e.data.processId)}`;
    case "ProcessExited": {
      const how = e.data.signal ? ` (killed by ${e.data.signal})` : "";
      return `${who(containerId, e.data.processId)} exited with code ${e.data.exitCode}${how}${e.data.oomKilled ? ", OOM-killed" : ""}`;
    }
    case "StopRequested":
      return `stop requested: ${e.data.signal}, then SIGKILL after ${e.data.timeoutInSeconds} s`;
    case "ContainerStopped":
      return "stopped";
    case "ShutdownRequested":
      return "shutdown requested";
    case "ContainerShutdown":
      return "shut down: sandbox released";
    case "ContainerDeleted":
      // An auto-remove is the daemon's own command, caused by the create that asked for --rm.
      return e.causationId ? `deleted by the daemon (--rm, caused by the create request ${e.correlationId ?? e.causationId})` : "deleted";
    case "ContainerLost":
      return `runtime lost: ${e.data.reason} (exit ${e.data.exitCode})`;
    case "RestartScheduled":
      return `restart #${e.data.attempt} scheduled in ${e.data.delayMs} ms`;
    case "PauseRequested":
      return "pause requested";
    case "ContainerPaused":
      return e.data.error ? `still paused: unpause failed: ${e.data.error.message}` : "paused (frozen)";
    case "UnpauseRequested":
      return "unpause requested";
    case "ContainerUnpaused":
      return e.data.error ? `still running: pause failed: ${e.data.error.message}` : "unpaused";
    case "ProcessAttached": {
      const what = [e.data.tty ? "its terminal" : "its output", ...(e.data.stdin ? ["stdin"] : [])].join(" and ");
      return `client attached to ${what} of ${who(containerId, e.data.processId)}`;
    }
    case "ProcessDetached":
      return `client detached from ${who(containerId, e.data.processId)}: ${DETACH_TEXT[e.data.reason]}`;
    case "ContainerRenamed":
      return `renamed from ${e.data.from} to ${e.data.to}`;
    case "DaemonRecovered":
      return `daemon restarted and recovered: ${e.data.adopted} adopted, ${e.data.exitsRecovered} exits recovered, ${e.data.lost} lost, ${e.data.intentsResolved} intents resolved`;
    case "OrphanFound":
      return `orphan found: ${describeOrphan(e.data.orphan)}`;
    case "OrphanRemoved":
      return `orphan ${e.data.id} ${e.data.how === "pruned" ? "killed and removed by system prune" : "no longer found"}`;
    case "JournalLossAccepted":
      return `journal loss accepted: acknowledged positions ${e.data.from}..${e.data.to} are gone (the journal ended at ${e.data.head})`;
    case "ImagePulled":
      return `image ${e.data.reference} pulled: ${e.data.digest} (${e.data.platform}, ${e.data.size} bytes)`;
    case "ImageLoaded":
      return `image ${e.data.reference} loaded from a ${e.data.format}: ${e.data.digest} (${e.data.platform}, ${e.data.size} bytes)`;
    case "ImageTagged":
      return `image ${e.data.source} tagged as ${e.data.reference} (${e.data.digest})`;
    case "ImageRemoved":
      return `image ${e.data.reference} removed (${e.data.digest}; ${e.data.freed.length} blobs freed)`;
    case "NetworkCreated":
      return `network ${e.data.name} created: ${e.data.subnet} via ${e.data.gateway} on bridge ${e.data.bridge}${e.data.builtin ? " (the default)" : ""}`;
    case "NetworkRemoved":
      return `network ${e.data.name} removed`;
    case "NetworkAttached": {
      const ports = e.data.ports.map((p) => `port ${p.hostIp ? `${p.hostIp}:` : ""}${p.hostPort}→${p.containerPort}${p.protocol === "udp" ? "/udp" : ""}`);
      return [`attached to ${e.data.network} as ${e.data.address.split("/")[0]}`, ...ports].join(", ");
    }
    case "NetworkDetached":
      return `detached from ${e.data.network} (${e.data.address.split("/")[0]}): ${NETWORK_DETACH_TEXT[e.data.reason]}`;
  }
}

const NETWORK_DETACH_TEXT: Record<NetworkDetachReason, string> = {
  stopped: "its sandbox ended",
  disconnected: "disconnected",
  recovered: "released at recovery",
};
