#!/usr/bin/env bash
# Builds berth's native addons with the node-gyp that ships inside npm. It compiles against
# the running node's installed headers (--nodedir) so no header download is needed offline;
# if those headers are absent it falls back to node-gyp's default (download) behaviour.
set -euo pipefail
cd "$(dirname "$0")/.."

node_bin=$(command -v node)
npm_cli=$(readlink -f "$(command -v npm)")
gyp="$(dirname "$npm_cli")/../node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp="$(dirname "$node_bin")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || { echo "build-native: node-gyp not found next to npm ($npm_cli)" >&2; exit 1; }

# The installed headers must match the running node exactly, or the addon may not load.
prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
version=$(node -p 'process.versions.node')
args=()
if [ -f "$prefix/include/node/node_version.h" ]; then
  hv=$(sed -n 's/^#define NODE_\(MAJOR\|MINOR\|PATCH\)_VERSION \([0-9]*\)$/\2/p' "$prefix/include/node/node_version.h" | paste -sd.)
  [ "$hv" = "$version" ] && args+=(--nodedir="$prefix")
fi

for dir in native/*/; do
  name=$(basename "$dir")
  out="$dir/build/Release/$name.node"
  # Rebuild only when a source is newer than the built addon.
  if [ -f "$out" ] && [ -z "$(find "$dir" -maxdepth 1 -type f -newer "$out" -print -quit)" ]; then
    continue
  fi
  echo "build-native: building $name" >&2
  node "$gyp" rebuild -C "$dir" ${args[@]+"${args[@]}"} --loglevel=warn >&2
  # Loading it proves the build links against this node's ABI.
  node -e 'require(process.argv[1])' "$PWD/$out"
done
