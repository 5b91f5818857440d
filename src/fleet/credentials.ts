// NATS key-based credentials, checked before any connection: an nkey seed file (`SU...`, the
// user's private key; the server knows only its public `U...` key) and a `.creds` file (a user
// JWT signed by an account, and the user's seed, as `nsc` writes them). The parsing is pure; the
// file is read by the caller (nats.ts), so a bad file is refused with its name before the server
// is asked, and a seed the server does not know is the server's "auth" refusal, not this one.
import { nkeys } from "@nats-io/nats-core";

export type KeyAuth =
  | { kind: "nkey"; seed: Uint8Array }
  | { kind: "creds"; jwt: string; seed: Uint8Array };

export type Parsed = { ok: true; auth: KeyAuth } | { ok: false; message: string };

/** A user's nkey seed: the file's one non-empty line (a trailing newline or comment lines aside). */
export function parseSeedFile(text: string, file: string): Parsed {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#") && !l.startsWith("//"));
  if (lines.length !== 1) return { ok: false, message: `${file} must hold one nkey seed (a line starting with SU), found ${lines.length} lines` };
  const seed = userSeed(lines[0]!, file);
  return typeof seed === "string" ? { ok: false, message: seed } : { ok: true, auth: { kind: "nkey", seed } };
}

// The layout nsc writes: a dashed BEGIN line, the JWT, a dashed END line, then the same around
// the seed (the client's credsAuthenticator reads it with the same pattern).
const BLOCK = /-{3,}[^\n]*-{3,}\s*\n([^\n]+)\n\s*-{3,}[^\n]*-{3,}/g;

export function parseCredsFile(text: string, file: string): Parsed {
  const blocks = [...text.replace(/\r/g, "").matchAll(BLOCK)].map((m) => m[1]!.trim());
  if (blocks.length < 2) return { ok: false, message: `${file} is not a NATS credentials file: expected a "BEGIN NATS USER JWT" block and a "BEGIN USER NKEY SEED" block` };
  const [jwt, seedText] = blocks as [string, string];
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(jwt)) return { ok: false, message: `${file}: its first block is not a JWT` };
  const seed = userSeed(seedText, file);
  return typeof seed === "string" ? { ok: false, message: seed } : { ok: true, auth: { kind: "creds", jwt, seed } };
}

const KINDS: Record<string, string> = { A: "an account's", O: "an operator's", N: "a server's", C: "a cluster's", X: "a curve key's" };

/** The seed's bytes, or why it is not a user's seed. The seed itself never appears in a message. */
function userSeed(text: string, file: string): Uint8Array | string {
  const seed = new TextEncoder().encode(text);
  let publicKey: string;
  try {
    publicKey = nkeys.fromSeed(seed).getPublicKey();
  } catch {
    return `${file} does not hold a valid nkey seed (expected a line starting with SU, as \`nsc\` or \`nk -gen user\` write it)`;
  }
  if (!publicKey.startsWith("U")) return `${file} holds ${KINDS[publicKey[0]!] ?? "another kind of key's"} seed (S${publicKey[0]}...), not a user's (SU...)`;
  return seed;
}
