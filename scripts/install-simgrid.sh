#!/usr/bin/env bash
# Installs the Debian packages the SimGrid peer needs (bench/peers/simgrid: `npm run bench`'s
# accuracy table, test/bench/simgrid-peer.test.ts). Idempotent: installs only what is missing.
# Run as root.
#   libsimgrid-dev  SimGrid's headers and library, its live-migration plugin among them (3.32 on bookworm)
#   g++             builds the peer (bench/peers/simgrid/migrate.cpp)
set -euo pipefail

PACKAGES=(libsimgrid-dev g++)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "simgrid packages: all installed"
  exit 0
fi

echo "simgrid packages: installing ${missing[*]}"
apt_get="$(dirname "$0")/apt-get-waiting.sh"
"$apt_get" update -qq
"$apt_get" install -y -qq --no-install-recommends "${missing[@]}"
