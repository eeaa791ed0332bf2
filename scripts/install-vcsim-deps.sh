#!/usr/bin/env bash
# Debian packages the vsphere tests need: Go and govmomi's vCenter simulator (as Go sources in
# /usr/share/gocode), and openssl for the test certificates. Installs only what is missing.
set -euo pipefail
packages=()
command -v go >/dev/null 2>&1 || packages+=(golang-go)
[ -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ] || packages+=(golang-github-vmware-govmomi-dev)
command -v openssl >/dev/null 2>&1 || packages+=(openssl)
if [ ${#packages[@]} -gt 0 ]; then
  apt_get="$(dirname "$0")/apt-get-waiting.sh"
  "$apt_get" update -qq
  "$apt_get" install -y -qq --no-install-recommends "${packages[@]}"
fi
