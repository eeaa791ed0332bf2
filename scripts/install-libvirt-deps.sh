#!/usr/bin/env bash
# Installs the Debian packages the libvirt tests need (test/libvirt): two or three libvirt
# daemons on this machine live-migrating a guest between them. Idempotent: installs only what
# is missing. Run as root; the QEMU lab's packages (scripts/install-lab-deps.sh) come first.
#   libvirt-daemon              libvirtd (Debian 12 ships the monolithic daemon)
#   libvirt-daemon-driver-qemu  its QEMU driver
#   libvirt-clients             virsh
set -euo pipefail

PACKAGES=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients)

bash "$(dirname "$0")/install-missing-packages.sh" libvirt "${PACKAGES[@]}"

# The QEMU driver refuses to start without the user and group libvirt-qemu, even when
# qemu.conf says user = "root"; libvirt-daemon-system would make them, but brings systemd units.
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -M -d /nonexistent -s /usr/sbin/nologin libvirt-qemu
