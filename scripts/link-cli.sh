#!/usr/bin/env bash
# Puts `berth` on the PATH: a symlink $BERTH_BIN_DIR/berth (default /usr/local/bin) to this
# checkout's bin/berth.js, so `berth --help` works in a new shell. Node follows the link to the
# checkout, which must stay where it is. Without write access it says what to run instead.
# BERTH_NO_LINK=1 skips it (scripts/test.sh: running the suite must not repoint the host's berth).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${BERTH_NO_LINK:-}" = 1 ]; then
  echo "berth: not linking it onto the PATH (BERTH_NO_LINK=1)"
  exit 0
fi
dir="${BERTH_BIN_DIR:-/usr/local/bin}"
target="$PWD/bin/berth.js"
link="$dir/berth"
if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
  echo "berth is on the PATH: $link -> $target"
elif [ -e "$link" ] && [ ! -L "$link" ]; then
  echo "berth: $link exists and is not a symlink; leaving it alone. Run this checkout as $target" >&2
elif mkdir -p "$dir" 2>/dev/null && ln -sfn "$target" "$link" 2>/dev/null; then
  echo "berth is on the PATH: linked $link -> $target (berth --help works in a new shell)"
else
  echo "berth: cannot write $dir; to put berth on the PATH run: sudo ln -sfn $target $link" >&2
fi
