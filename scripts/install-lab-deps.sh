#!/usr/bin/env bash
# Installs the Debian packages the QEMU lab needs (`vm-monitoring lab`, `--platform qemu`,
# test/qemu, bench/qemu.ts). Idempotent: installs only what is missing. Run as root.
#   qemu-system-x86   the hypervisor (qemu-system-x86_64)
#   linux-image-amd64 the guest kernel (/boot/vmlinuz-*) and its modules (the NIC driver)
#   busybox-static    the guest's userland (/bin/busybox, static)
#   haproxy           the lab's load balancer
#   gcc, libc6-dev    build the guest's static workload server (guest/server.c)
#   iproute2          network namespace, bridge and taps
#   cpio, kmod        build the initramfs, read module dependencies (modinfo)
set -euo pipefail

PACKAGES=(qemu-system-x86 linux-image-amd64 busybox-static haproxy gcc libc6-dev iproute2 cpio kmod)

bash "$(dirname "$0")/install-missing-packages.sh" lab "${PACKAGES[@]}"
