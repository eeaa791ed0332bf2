#!/usr/bin/env bash
# Builds the vcsim test fixture (test/vsphere/vcsim/*.go) in GOPATH mode against Debian's
# golang-github-vmware-govmomi-dev in /usr/share/gocode: no module download.
#   build-vcsim.sh OUTPUT_BINARY [GOCACHE_DIR]
set -euo pipefail
out=${1:?usage: build-vcsim.sh OUTPUT_BINARY [GOCACHE_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
gopath=$(mktemp -d)
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/vm-monitoring/vcsim-fixture"
cp "$here"/vcsim/*.go "$gopath/src/vm-monitoring/vcsim-fixture/"
export GO111MODULE=off GOFLAGS= GOPROXY=off CGO_ENABLED=0
export GOPATH="$gopath:/usr/share/gocode"
export GOCACHE=${2:-$gopath/cache}
cd "$gopath/src/vm-monitoring/vcsim-fixture"
go build -o "$out" .
