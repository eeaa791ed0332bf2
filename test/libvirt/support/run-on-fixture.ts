/**
 * Runs a script with `--platform libvirt` on this machine's libvirt fixture: the script's
 * hosts as libvirt daemons (support/libvirt-hosts.ts), its VMs as domains of the project's
 * image where the placement line puts them, HAProxy on their bridge; then takes it all down.
 *
 *   sudo npx tsx test/libvirt/support/run-on-fixture.ts SCRIPT [MIGRATION_JSON] -- RUN_ARGS...
 *
 * RUN_ARGS go to `vm-monitoring run` (for example --out DIR --report); MIGRATION_JSON is the
 * config's migration section (default {}). For trying the platform without a cluster.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { defaultCacheDir, guestImage } from '../../../src/platforms/qemu/guest-image.ts';
import { staticBusybox } from '../../../src/platforms/qemu/requirements.ts';
import { readInputFile } from '../../../src/read-input-file.ts';
import { parseScript } from '../../../src/script/parse.ts';
import { placementOf } from '../../../src/script/validate.ts';
import { REPO_ROOT } from '../../support/cli.ts';
import { startBalancer } from './balancer.ts';
import { bootDomain, libvirtSkipReason, startLibvirtHosts, type LibvirtHosts } from './libvirt-hosts.ts';

const log = (line: string): void => {
  process.stderr.write(`fixture: ${line}\n`);
};

async function main(argv: string[]): Promise<number> {
  const split = argv.indexOf('--');
  const [scriptPath, migration = '{}'] = split < 0 ? argv : argv.slice(0, split);
  const runArgs = split < 0 ? [] : argv.slice(split + 1);
  if (scriptPath === undefined) throw new Error('usage: run-on-fixture.ts SCRIPT [MIGRATION_JSON] -- RUN_ARGS...');
  const skip = libvirtSkipReason();
  if (skip) throw new Error(skip);
  const placement = placementOf(parseScript(readInputFile(scriptPath, 'script', 1 << 20), scriptPath));
  const image = await guestImage({ cacheDir: defaultCacheDir(), nic: 'virtio-net-pci', busybox: staticBusybox() ?? '/bin/busybox' });
  let lab: LibvirtHosts | undefined;
  const stopBalancer: (() => Promise<void>)[] = [];
  try {
    lab = await startLibvirtHosts({ count: placement.length, names: placement.map((entry) => entry.host), log });
    const started = lab;
    let index = 0;
    const vms = await Promise.all(placement.flatMap((entry) => entry.vms.map((vm) => {
      index++;
      log(`booting ${vm} on ${entry.host}`);
      return bootDomain(started, started.hosts.find((host) => host.name === entry.host)!, { name: vm, index, kernel: image.kernel, initrd: image.initrd });
    })));
    const balancer = await startBalancer(lab, vms);
    stopBalancer.push(balancer.stop);
    const config = path.join(lab.dir, 'libvirt.yaml');
    fs.writeFileSync(config, JSON.stringify({
      hosts: lab.hosts.map((host) => ({ name: host.name, uri: host.uri })),
      load: { url: 'http://lb', socketPath: balancer.socket },
      migration: JSON.parse(migration) as unknown,
    }), { flag: 'wx' });
    log(`up: ${lab.hosts.map((host) => host.name).join(', ')}; ${vms.map((vm) => vm.name).join(', ')}; running the script`);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'run', scriptPath, '--platform', 'libvirt', '--config', config, ...runArgs], { stdio: 'inherit' });
    // Ctrl-C reaches the run too (same process group): it stops by itself, then the fixture goes down.
    process.on('SIGINT', () => undefined);
    return await new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  } finally {
    for (const stop of stopBalancer) await stop();
    await lab?.stop();
    log('down');
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`fixture: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
