#!/usr/bin/env bash
# Installs the Debian packages the live-view tests need (test/live). Idempotent: installs only
# what is missing. Run as root.
#   python3-prometheus-client   Prometheus' own Python client, whose parser of the text format
#                               checks what /metrics serves
set -euo pipefail

bash "$(dirname "$0")/install-missing-packages.sh" live python3-prometheus-client
