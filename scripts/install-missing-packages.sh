#!/usr/bin/env bash
# Installs those of the Debian packages named that are not installed yet (no recommends), saying
# which under LABEL: install-missing-packages.sh LABEL PACKAGE... Run as root.
set -euo pipefail
label=$1
shift

missing=()
for package in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "$label packages: all installed"
  exit 0
fi

echo "$label packages: installing ${missing[*]}"
apt_get="$(dirname "$0")/apt-get-waiting.sh"
"$apt_get" update -qq
"$apt_get" install -y -qq --no-install-recommends "${missing[@]}"
