#!/usr/bin/env bash
# apt-get that waits (up to 10 minutes) for another install to release dpkg's lock instead of
# failing at once with "Could not get lock". Used by every install script and by .ci/run.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
exec apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 "$@"
