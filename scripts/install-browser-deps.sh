#!/usr/bin/env bash
# Installs the Debian packages the browser tests need (test/browser). Idempotent: installs only
# what is missing. Run as root.
#   chromium   the browser playwright-core drives (at /usr/bin/chromium) to open the report and
#              the live view
set -euo pipefail

bash "$(dirname "$0")/install-missing-packages.sh" browser chromium
