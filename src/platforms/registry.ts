import { openLibvirtPlatform } from './libvirt/libvirt-platform.ts';
import type { Platform, PlatformOptions } from './platform.ts';
import { openQemuPlatform } from './qemu/qemu-platform.ts';
import { openSimPlatform } from './sim/sim-platform.ts';
import { openVspherePlatform } from './vsphere/vsphere-platform.ts';

/** Every platform the CLI can open, by the name `--platform` takes. */
export const PLATFORMS: Record<string, (options: PlatformOptions) => Platform | Promise<Platform>> = {
  sim: openSimPlatform,
  vsphere: openVspherePlatform,
  qemu: openQemuPlatform,
  libvirt: (options) => openLibvirtPlatform(options),
};

export const DEFAULT_PLATFORM = 'sim';
