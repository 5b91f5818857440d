#!/usr/bin/env bash
# `npm start`: from a fresh clone (Debian, as root) to a running berth.
#   1. install what is missing (runc, busybox-static, npm packages, the native addon) and build;
#   2. start the daemon in the background with the default root, unless one already serves it;
#   3. run `berth run --rm busybox echo hello from berth` and show that container's history;
#   4. leave the daemon running and say how to stop it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Installs what is missing and builds dist/ and dist/bundle/ (it fails if no CLI was built).
bash scripts/setup.sh

berth() { node bin/berth.js "$@"; }
root=$(node -e 'import("./dist/src/cli/context.js").then((m) => console.log(m.resolveRoot({})))')

if berth ls -q >/dev/null 2>&1; then
  echo "berth daemon already serving $root"
else
  mkdir -p "$root"
  chmod 700 "$root"
  # setsid: the daemon outlives this script, its terminal and npm's process group.
  # A 32 MB young generation: replaying the journal allocates many short-lived objects.
  setsid nohup node --max-semi-space-size=32 bin/berth.js daemon --root "$root" >"$root/daemon.log" 2>&1 </dev/null &
  echo $! >"$root/daemon.pid"
  for _ in $(seq 1 600); do
    grep -q serving "$root/daemon.log" 2>/dev/null && break
    kill -0 "$(cat "$root/daemon.pid")" 2>/dev/null || { cat "$root/daemon.log" >&2; echo "start: the daemon exited" >&2; exit 1; }
    sleep 0.1
  done
  grep -q serving "$root/daemon.log" || { echo "start: the daemon did not come up; see $root/daemon.log" >&2; exit 1; }
  echo "berth daemon started (pid $(cat "$root/daemon.pid")), serving $root"
fi

name="hello-$(date +%s)-$$"
echo
echo "\$ berth run --rm --name $name busybox echo hello from berth"
berth run --rm --name "$name" busybox echo hello from berth
echo
echo "\$ berth history $name"
berth history "$name"
echo
if [ -f "$root/daemon.pid" ]; then
  echo "The daemon keeps running. Stop it with: kill $(cat "$root/daemon.pid")   (containers keep running; see docs/recovery.md)"
else
  echo "The daemon keeps running. Stop it by sending SIGTERM to its process (containers keep running)."
fi
if [ -n "$(type -P berth)" ]; then
  echo "Try: berth --help"
else
  echo "Try: node bin/berth.js --help   (berth is not on this shell's PATH; see scripts/link-cli.sh)"
fi
