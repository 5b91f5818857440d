// Image references parse and normalise as docker's distribution/reference does.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { familiarRepository, formatReference, parsePlatform, parseReference } from "../src/model/reference.js";

const D = "sha256:" + "ab".repeat(32);

const normal: [string, string, string][] = [
  ["alpine", "docker.io/library/alpine:latest", "alpine"],
  ["alpine:3.19", "docker.io/library/alpine:3.19", "alpine"],
  ["library/alpine", "docker.io/library/alpine:latest", "alpine"],
  ["docker.io/alpine", "docker.io/library/alpine:latest", "alpine"],
  ["index.docker.io/library/alpine:1", "docker.io/library/alpine:1", "alpine"],
  ["user/app", "docker.io/user/app:latest", "user/app"],
  ["localhost/app", "localhost/app:latest", "localhost/app"],
  ["localhost:5000/app:v1", "localhost:5000/app:v1", "localhost:5000/app"],
  ["127.0.0.1:5000/ns/name:tag", "127.0.0.1:5000/ns/name:tag", "127.0.0.1:5000/ns/name"],
  ["quay.io/a/b/c:1.0-rc_2", "quay.io/a/b/c:1.0-rc_2", "quay.io/a/b/c"],
  [`alpine@${D}`, `docker.io/library/alpine@${D}`, "alpine"],
  [`alpine:3@${D}`, `docker.io/library/alpine:3@${D}`, "alpine"],
  [`host:1/a@${D}`, `host:1/a@${D}`, "host:1/a"],
  ["a__b-d---e/x.y", "docker.io/a__b-d---e/x.y:latest", "a__b-d---e/x.y"],
  ["Registry.Example/x", "Registry.Example/x:latest", "Registry.Example/x"],
];

for (const [text, full, familiar] of normal) {
  test(`${text} normalises to ${full}`, () => {
    const r = parseReference(text);
    if (!r.ok) throw new Error(r.error.message);
    assert.is(formatReference(r.value), full);
    assert.is(familiarRepository(r.value), familiar);
  });
}

const invalid: [string, RegExp][] = [
  ["", /expected/],
  ["Alpine", /must be lowercase/],
  ["user/App", /must be lowercase/],
  ["a/../b", /not a repository name component/],
  ["..", /not a repository name component/],
  ["a//b", /not a repository name component/],
  ["-a", /not a repository name component/],
  ["a_", /not a repository name component/],
  ["a:", /tag/],
  ["a:-x", /tag/],
  ["a:" + "x".repeat(129), /tag/],
  ["a@sha256:abc", /digest/],
  ["a@md5:" + "a".repeat(32), /digest/],
  [`a@${D.toUpperCase().replace("SHA256", "sha256")}`, /digest/],
  ["-host:5000/a", /registry host/],
  ["host:port/a", /tag|registry/],
  [":tag", /empty/],
  ["a b", /component/],
  ["x/" + "a".repeat(260), /longer than 255/],
];

for (const [text, why] of invalid) {
  test(`${JSON.stringify(text.slice(0, 30))} is refused as invalidArgument`, () => {
    const r = parseReference(text);
    assert.ok(!r.ok, `accepted ${text}`);
    if (r.ok) return;
    assert.is(r.error.code, "invalidArgument");
    assert.match(r.error.message, why);
  });
}

test("platforms parse as os/arch[/variant]", () => {
  assert.equal(parsePlatform("linux/arm64"), { ok: true, value: { os: "linux", architecture: "arm64" } });
  assert.equal(parsePlatform("linux/arm/v7"), { ok: true, value: { os: "linux", architecture: "arm", variant: "v7" } });
  assert.ok(!parsePlatform("linux").ok);
  assert.ok(!parsePlatform("linux/a/b/c").ok);
});

test.run();
