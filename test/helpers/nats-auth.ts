// Key-based NATS auth for the fleet tests: nkey users in a server config file, and an operator
// with one account and one user (JWT mode), signed here with the client's own nkeys, so no
// `nsc` is needed. The server reads the JWTs from the config file (resolver: MEMORY).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { nkeys } from "@nats-io/nats-core";

export interface UserKey {
  seed: string;
  publicKey: string;
}

export function userKey(): UserKey {
  const kp = nkeys.createUser();
  return { seed: new TextDecoder().decode(kp.getSeed()), publicKey: kp.getPublicKey() };
}

/** A server config admitting the nkey users given (by public key), with JetStream in `storeDir`. */
export function nkeyServerConfig(dir: string, publicKeys: string[]): string {
  const file = join(dir, "nkey.conf");
  writeFileSync(file, `authorization {\n  users = [\n${publicKeys.map((k) => `    { nkey: ${k} }`).join("\n")}\n  ]\n}\n`);
  return file;
}

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64url");

/** A NATS v2 JWT: `nats` claims signed by `issuer` about `subject` (public key). */
function jwt(issuer: ReturnType<typeof nkeys.createOperator>, subject: string, name: string, nats: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" }));
  const claims = { jti: b64url(crypto.getRandomValues(new Uint8Array(16))), iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats: { ...nats, version: 2 } };
  const body = `${header}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${b64url(issuer.sign(new TextEncoder().encode(body)))}`;
}

const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };

export interface Operator {
  /** The server's config file (operator, the account preloaded, JetStream on). */
  config: string;
  /** A .creds file for a user of the account. */
  creds: string;
  /** A .creds file whose user JWT is signed by another account the server does not know. */
  strangerCreds: string;
}

/** Operator mode: one operator, one account with JetStream, one user, written into `dir`. */
export function operatorSetup(dir: string): Operator {
  const operator = nkeys.createOperator();
  const account = nkeys.createAccount();
  const opJwt = jwt(operator, operator.getPublicKey(), "berth-op", { type: "operator" });
  const accountJwt = jwt(operator, account.getPublicKey(), "berth", { type: "account", limits: UNLIMITED, default_permissions: { pub: {}, sub: {} } });
  // JetStream in operator mode needs a system account (nats-server 2.9.10 will not start without).
  const system = nkeys.createAccount();
  const systemJwt = jwt(operator, system.getPublicKey(), "SYS", { type: "account", limits: { ...UNLIMITED, mem_storage: 0, disk_storage: 0, streams: 0, consumer: 0 } });
  const config = join(dir, "operator.conf");
  writeFileSync(config, `operator: ${opJwt}\nsystem_account: ${system.getPublicKey()}\nresolver: MEMORY\nresolver_preload: {\n  ${account.getPublicKey()}: ${accountJwt}\n  ${system.getPublicKey()}: ${systemJwt}\n}\n`);
  const creds = credsFile(dir, "user.creds", account);
  const strangerCreds = credsFile(dir, "stranger.creds", nkeys.createAccount());
  return { config, creds, strangerCreds };
}

function credsFile(dir: string, name: string, account: ReturnType<typeof nkeys.createAccount>): string {
  const user = nkeys.createUser();
  const userJwt = jwt(account, user.getPublicKey(), name, { type: "user", pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
  const file = join(dir, name);
  const seed = new TextDecoder().decode(user.getSeed());
  writeFileSync(file, `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n************************* IMPORTANT *************************\nNKEY Seed printed below can be used to sign and prove identity.\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`, { mode: 0o600 });
  return file;
}
