#!/usr/bin/env bash
# Installs what berth needs on a fresh Debian machine (as root): the programs it runs (runc,
# busybox-static, ...) from Debian when missing, the npm packages (better-sqlite3 builds from
# source, ~2 min), and the native addons. scripts/test-setup.sh adds what only the tests run.
set -euo pipefail
cd "$(dirname "$0")/.."

# What berth runs (src/), and the build toolchain node-gyp needs for better-sqlite3 and the
# native addons (scripts/build-native.sh). Node 20 and npm are the prerequisites (README).
source scripts/needs.sh
need runc runc
need conmon conmon   # the per-container monitor (src/vm/conmon.ts)
need /bin/busybox busybox-static
need cp coreutils
need mknod coreutils
need ps procps      # berth top (src/vm/top.ts)
need python3 python3
need make make
need g++ g++
# Networking (src/vm/network/): the CNI plugins, the network namespaces' files, the bridges'
# firewall rules and links.
need /usr/lib/cni/bridge containernetworking-plugins
need unshare util-linux
need iptables iptables
need iptables-restore iptables
need iptables-save iptables
need ip iproute2
install_needs
# test/setup-installs.test.ts runs only the lines above, with programs hidden from PATH.
[ "${BERTH_SETUP_PROGRAMS_ONLY:-}" = 1 ] && exit 0

# The stamp holds the lock file's hash: npm ci runs only when the dependencies really changed.
stamp=node_modules/.berth-installed
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
fi

# The native addons (a no-op when up to date): SO_PEERCRED for the IPC server, and mount
# for overlay root filesystems.
bash scripts/build-native.sh >&2

# The compiled CLI and daemon (dist/): `npx berth` and the end-to-end tests run them.
npx tsc -p tsconfig.json >&2 || [ -f dist/src/cli/main.js ]
# One-file bundles of the CLI and the runtime service (dist/bundle/): they start faster.
node scripts/bundle.mjs >&2

# `berth` on the PATH (a symlink in /usr/local/bin, or $BERTH_BIN_DIR), and say so.
bash scripts/link-cli.sh
