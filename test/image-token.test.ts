// Token auth for real: docker-registry configured with `auth: token` against a token service
// this test serves on loopback. Distribution 2.8 accepts only JWTs whose x5c chain ends at its
// rootcertbundle, so the test makes a self-signed certificate with openssl and signs RS256
// tokens with its key. berth must answer the Bearer challenge as docker does against Docker Hub.
import { execFileSync } from "node:child_process";
import { createSign, randomUUID, X509Certificate } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { pullImage } from "../src/vm/image/pull.js";
import { pushImage } from "../src/vm/image/push.js";
import { ImageStore } from "../src/vm/image/store.js";
import { buildImage, busyboxTree, push, startRegistry, type Registry } from "./helpers/registry.js";
import { tempDir } from "./helpers/tmp.js";

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

interface TokenService {
  realm: string;
  requests: URL[];
  close(): Promise<void>;
}

/** Issues a token for whatever scope is asked, to anyone (anonymous pulls), and logs each request. */
async function tokenService(key: string, certDer: Buffer, service: string, issuer: string): Promise<TokenService> {
  const requests: URL[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    requests.push(url);
    const access = (url.searchParams.getAll("scope")).map((s) => {
      const [type, name, actions] = s.split(":");
      return { type, name, actions: actions!.split(",") };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", x5c: [certDer.toString("base64")] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub: "", aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access }));
    const signature = createSign("RSA-SHA256").update(`${header}.${claims}`).sign(key);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token: `${header}.${claims}.${b64url(signature)}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    realm: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    requests,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

let work: ReturnType<typeof tempDir>;
let tokens: TokenService;
let registry: Registry;
let open: Registry;

test.before(async () => {
  work = tempDir("berth-token-");
  const keyFile = join(work.path, "key.pem");
  const certFile = join(work.path, "cert.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=berth-test-token"], { stdio: "ignore" });
  const cert = new X509Certificate(fs.readFileSync(certFile));
  tokens = await tokenService(fs.readFileSync(keyFile, "utf8"), cert.raw, "berth-test", "berth-test-issuer");
  registry = await startRegistry({ token: { realm: tokens.realm, service: "berth-test", issuer: "berth-test-issuer", rootcertbundle: certFile } });
  // The same image, pushed to an open registry whose storage the token one then serves.
  open = await startRegistry({ storage: registry.storage });
  const layout = join(work.path, "oci");
  buildImage(layout, "app", busyboxTree(work.path), { cmd: ["echo", "hi"] });
  push(layout, "app", `${open.host}/t/app:1`);
});

test.after(async () => {
  await open?.stop();
  await registry?.stop();
  await tokens?.close();
  work?.remove();
});

test("an anonymous pull answers the registry's Bearer challenge with a token for the repository's pull scope", async () => {
  const direct = await fetch(`http://${registry.host}/v2/t/app/manifests/1`);
  assert.is(direct.status, 401, "the registry really asks for a token");
  assert.match(direct.headers.get("www-authenticate") ?? "", /^Bearer realm=/);
  const root = tempDir();
  try {
    const r = await pullImage(root.path, `${registry.host}/t/app:1`);
    assert.is(r.changed, true);
    const asked = tokens.requests.filter((u) => u.pathname === "/token");
    assert.ok(asked.length >= 1);
    assert.is(asked[0]!.searchParams.get("service"), "berth-test");
    assert.is(asked[0]!.searchParams.get("scope"), "repository:t/app:pull");
  } finally {
    root.remove();
  }
});

test("a push answers the challenge for push as well as pull, and the registry then serves the same manifest", async () => {
  const root = tempDir();
  const fresh = tempDir();
  try {
    const pulled = await pullImage(root.path, `${registry.host}/t/app:1`);
    const target = `${registry.host}/t/pushed:1`;
    new ImageStore(root.path).setRef({ ...pulled.record, reference: target });
    tokens.requests.length = 0;
    const pushed = await pushImage(root.path, target);
    assert.is(pushed.digest, pulled.record.manifest);
    const scopes = tokens.requests.map((u) => u.searchParams.get("scope"));
    assert.ok(scopes.includes("repository:t/pushed:pull,push"), `a token for push was asked: ${JSON.stringify(scopes)}`);
    const back = await pullImage(fresh.path, target);
    assert.is(back.record.manifest, pulled.record.manifest);
  } finally {
    root.remove();
    fresh.remove();
  }
});

test.run();
