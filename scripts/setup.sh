#!/usr/bin/env bash
# Installs what berth needs on a fresh Debian machine (as root): runc and busybox-static from
# Debian, the npm packages (better-sqlite3 builds from source, ~2 min), and the native addons.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v runc >/dev/null 2>&1 || missing+=(runc)
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} with apt-get" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  else
    echo "missing ${missing[*]}: install them (as root: apt-get install ${missing[*]})" >&2
  fi
fi

# The stamp holds the lock file's hash: npm ci runs only when the dependencies really changed.
stamp=node_modules/.berth-installed
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
fi

# The native addons (a no-op when up to date): SO_PEERCRED for the IPC server, and mount/dup2
# for overlay root filesystems and warm runtime services.
bash scripts/build-native.sh >&2

# The compiled CLI and daemon (dist/): `npx berth` and the end-to-end tests run them.
npx tsc -p tsconfig.json >&2 || [ -f dist/src/cli/main.js ]
# One-file bundles of the CLI and the runtime service (dist/bundle/): they start faster.
node scripts/bundle.mjs >&2
