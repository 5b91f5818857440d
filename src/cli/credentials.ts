// Registry credentials on the CLI's side, in docker's config.json format: berth's own file
// (0600; $BERTH_AUTH_FILE, else $XDG_CONFIG_HOME/berth/auth.json or ~/.config/berth/auth.json)
// first, then docker's ($DOCKER_CONFIG/config.json or ~/.docker/config.json), read only. The
// CLI resolves them and sends them with the pull request, as docker's X-Registry-Auth does.
// A file that names a credential helper for a registry (`credHelpers: {HOST: NAME}`, else
// `credsStore: NAME`) has that helper asked instead of its `auths` (src/cli/credential-helpers.ts),
// as docker does; login and logout store and erase through the helper berth's own file names.
import fs from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { BerthError } from "../model/errors.js";
import { DEFAULT_DOMAIN } from "../model/reference.js";
import type { Credentials } from "../vm/image/registry.js";
import { helperErase, helperGet, helperStore } from "./credential-helpers.js";

/** Docker keys Docker Hub's credentials under its v1 URL. */
const HUB_KEY = "https://index.docker.io/v1/";

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [other: string]: unknown;
}

export function authFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_AUTH_FILE) return env.BERTH_AUTH_FILE;
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "berth", "auth.json");
}

const dockerFile = (env: NodeJS.ProcessEnv = process.env) => join(env.DOCKER_CONFIG || join(homedir(), ".docker"), "config.json");

const keyOf = (domain: string) => (domain === DEFAULT_DOMAIN ? HUB_KEY : domain);

function read(file: string): DockerConfig {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as DockerConfig;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new BerthError("invalidArgument", `cannot read the credentials file ${file}: ${(err as Error).message}`);
  }
}

function entryCredentials(entry: NonNullable<DockerConfig["auths"]>[string] | undefined): Credentials | undefined {
  if (!entry) return undefined;
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (!entry.auth) return undefined;
  const text = Buffer.from(entry.auth, "base64").toString("utf8");
  const colon = text.indexOf(":");
  return colon > 0 ? { username: text.slice(0, colon), password: text.slice(colon + 1) } : undefined;
}

/** The helper a config names for a registry: its own entry in credHelpers, else credsStore. */
function helperFor(config: DockerConfig, domain: string): string | undefined {
  const helpers = config.credHelpers ?? {};
  const named = helpers[keyOf(domain)] ?? (domain === DEFAULT_DOMAIN ? undefined : helpers[`https://${domain}`]);
  const helper = named ?? config.credsStore;
  return typeof helper === "string" && helper !== "" ? helper : undefined;
}

/**
 * The credentials for a registry host ("docker.io", "127.0.0.1:5000"), if any file has them:
 * berth's file, then docker's; in each, the helper it names for the host, else its `auths`.
 */
export function credentialsFor(domain: string, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const keys = domain === DEFAULT_DOMAIN ? [HUB_KEY, "index.docker.io", "docker.io", "registry-1.docker.io"] : [domain, `https://${domain}`, `http://${domain}`];
  for (const file of [authFile(env), dockerFile(env)]) {
    const config = read(file);
    const helper = helperFor(config, domain);
    if (helper) {
      const c = helperGet(helper, keyOf(domain));
      if (c) return c;
      continue;
    }
    const auths = config.auths ?? {};
    for (const k of keys) {
      const c = entryCredentials(auths[k]);
      if (c) return c;
    }
  }
  return undefined;
}

/** Writes berth's own file with 0600 (through a temp file, so a crash leaves the old one). */
function write(file: string, config: DockerConfig): void {
  fs.mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(config, null, "\t")}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/** Keeps the credentials: through the helper berth's file names for the host, else in the file. Returns where. */
export function saveCredentials(domain: string, c: Credentials, env: NodeJS.ProcessEnv = process.env): string {
  const file = authFile(env);
  const config = read(file);
  const helper = helperFor(config, domain);
  if (helper) {
    helperStore(helper, keyOf(domain), c);
    return `docker-credential-${helper}`;
  }
  config.auths = { ...(config.auths ?? {}), [keyOf(domain)]: { auth: Buffer.from(`${c.username}:${c.password}`).toString("base64") } };
  write(file, config);
  return file;
}

/** Removes the host's entry from berth's file (and its helper's); false when neither had one. */
export function removeCredentials(domain: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = authFile(env);
  const config = read(file);
  const helper = helperFor(config, domain);
  const erased = helper ? helperErase(helper, keyOf(domain)) : false;
  if (!config.auths?.[keyOf(domain)]) return erased;
  delete config.auths[keyOf(domain)];
  write(file, config);
  return true;
}
