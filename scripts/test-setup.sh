#!/usr/bin/env bash
# Installs, when missing, the programs only the tests run (scripts/setup.sh covers what berth
# itself runs); with --bench, also the peers the benchmarks compare against. scripts/test.sh
# calls it; test/setup-installs.test.ts checks the list against the sources.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/needs.sh
need mount mount   # test/journal-api.test.ts: a full disk, on a small tmpfs
need umount mount
need sh dash       # bench/cli-run.ts
need bash bash     # test/cli-output.test.ts: real pipes (wc, head) through bash -c
need git git       # test/daemon-upgrade.test.ts: the pre-conmon berth, from the repository's history
need tar tar       # test/daemon-upgrade.test.ts
need sync coreutils # bench/pull.ts: each pull starts on a synced disk
need tmux tmux     # test/cli-interactive.test.ts: a real terminal, typed into and read back
need zsh zsh       # test/cli-everyday.test.ts: the zsh completion script, run by zsh
need docker-registry docker-registry # test/image-pull.test.ts: a real registry on 127.0.0.1
need skopeo skopeo # test/image-pull.test.ts: pushes the test images
need umoci umoci   # test/image-pull.test.ts: builds the test images
need htpasswd apache2-utils # test/image-login.test.ts: a registry with basic auth
need openssl openssl # test/image-token.test.ts: the token service's self-signed certificate
need nats-server nats-server # test/fleet-*.test.ts: a real JetStream server on loopback
need nft nftables  # test/network-*.test.ts: the host's ruleset, the same before and after
if [ "${1:-}" = --bench ]; then
  need podman podman # bench/cli-run.ts, attach-echo.ts and pull.ts compare with it when present
fi
install_needs
