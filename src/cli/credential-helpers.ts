// docker's credential helpers: `docker-credential-<name>` on PATH, spoken to as docker does
// (github.com/docker/docker-credential-helpers). `get` takes the server on stdin and prints
// {"ServerURL","Username","Secret"}; `store` takes that object on stdin; `erase` takes the
// server. A helper that has nothing for the server says "credentials not found" on stdout and
// exits non-zero, which is no credentials, not an error. This file is the CLI's only edge to them.
import { spawnSync } from "node:child_process";
import { BerthError } from "../model/errors.js";
import type { Credentials } from "../vm/image/registry.js";

/** A helper may ask for a passphrase (pass, gpg): give it time, but not forever. */
const HELPER_TIMEOUT_MS = 60_000;
const NOT_FOUND = "credentials not found";
/** docker's marker for an identity (OAuth refresh) token in place of a user name. */
const TOKEN_USER = "<token>";

const program = (helper: string) => `docker-credential-${helper}`;

function run(helper: string, verb: "get" | "store" | "erase", input: string): { ok: boolean; stdout: string } {
  if (!/^[a-zA-Z0-9_.-]+$/.test(helper)) throw new BerthError("invalidArgument", `invalid credential helper name ${JSON.stringify(helper)}: expected the part after docker-credential-`);
  const r = spawnSync(program(helper), [verb], { input, encoding: "utf8", timeout: HELPER_TIMEOUT_MS, stdio: ["pipe", "pipe", "pipe"] });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new BerthError("notFound", `credential helper ${program(helper)} is not on PATH (named by credsStore or credHelpers)`);
    if (code === "ETIMEDOUT") throw new BerthError("timeout", `credential helper ${program(helper)} ${verb} did not answer within ${HELPER_TIMEOUT_MS / 1000} s`);
    throw new BerthError("internalError", `credential helper ${program(helper)} ${verb}: ${r.error.message}`);
  }
  return { ok: r.status === 0, stdout: (r.stdout ?? "").trim() || (r.stderr ?? "").trim() };
}

const failed = (helper: string, verb: string, text: string) =>
  new BerthError("internalError", `credential helper ${program(helper)} ${verb} failed: ${text.slice(0, 200) || "no message"}`);

/** The helper's credentials for `server`, or undefined when it has none. */
export function helperGet(helper: string, server: string): Credentials | undefined {
  const r = run(helper, "get", server);
  if (!r.ok) {
    if (r.stdout.toLowerCase().includes(NOT_FOUND)) return undefined;
    throw failed(helper, "get", r.stdout);
  }
  let body: { Username?: unknown; Secret?: unknown };
  try {
    body = JSON.parse(r.stdout) as typeof body;
  } catch {
    throw failed(helper, "get", `it printed no JSON: ${r.stdout}`);
  }
  if (typeof body.Username !== "string" || typeof body.Secret !== "string" || body.Secret === "") return undefined;
  if (body.Username === TOKEN_USER) throw new BerthError("unsupported", `credential helper ${program(helper)} holds an identity token for ${server}: berth speaks only user name and password`);
  return { username: body.Username, password: body.Secret };
}

export function helperStore(helper: string, server: string, c: Credentials): void {
  const r = run(helper, "store", JSON.stringify({ ServerURL: server, Username: c.username, Secret: c.password }));
  if (!r.ok) throw failed(helper, "store", r.stdout);
}

/** Forgets `server`'s credentials; false when the helper had none. */
export function helperErase(helper: string, server: string): boolean {
  const r = run(helper, "erase", server);
  if (r.ok) return true;
  if (r.stdout.toLowerCase().includes(NOT_FOUND)) return false;
  throw failed(helper, "erase", r.stdout);
}
