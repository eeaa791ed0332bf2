#!/usr/bin/env bash
# Installs the Debian packages the SimGrid peer needs (bench/peers/simgrid: `npm run bench`'s
# accuracy table, test/bench/simgrid-peer.test.ts). Idempotent: installs only what is missing.
# Run as root.
#   libsimgrid-dev  SimGrid's headers and library, its live-migration plugin among them (3.32 on bookworm)
#   g++             builds the peer (bench/peers/simgrid/*.cpp)
set -euo pipefail

PACKAGES=(libsimgrid-dev g++)

bash "$(dirname "$0")/install-missing-packages.sh" simgrid "${PACKAGES[@]}"
