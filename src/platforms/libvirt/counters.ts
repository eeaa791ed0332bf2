import { COUNTERS } from '../../monitor/counters.ts';
import type { CounterReading } from '../platform.ts';
import {
  basePageKiB, canMeasureDirtyRate, hostFigures, latestEstimates, parseNodeInfo, sampleCommands, snapshotOf, splitSections, startCommands, virshQuote,
  type HostFigures, type HostSnapshot, type NodeInfo,
} from './node-stats.ts';
import type { Virsh } from './virsh.ts';

export interface LibvirtHostUri {
  name: string;
  uri: string;
}

/** A sample's virsh call may take this long; beyond it the host gives no readings this time. */
const SAMPLE_TIMEOUT_MS = 5000;
/**
 * libvirt makes a dirty-rate measurement wait up to 30 s for the domain's job lock (a
 * migration that began just before it holds it): the call is given longer, so that a new one
 * is never queued behind it, holding another of the daemon's workers.
 */
const DIRTY_RATE_TIMEOUT_MS = 35_000;

interface HostState {
  host: LibvirtHostUri;
  node: NodeInfo;
  /** KSM's page size where the host runs KSM, else null, with why in `noKsm`. */
  ksmPageKiB: number | null;
  noKsm: string;
  /** The last good snapshot; null before start and after a failed sample (rates restart from the next). */
  previous: HostSnapshot | null;
  /** Domains whose jobs the next sample asks for: those of the last good snapshot. */
  domains: string[];
  activeKB: Map<string, number>;
  migrationBytes: number;
  measuringDirtyRate: boolean;
  failedSamples: number;
}

/**
 * The host counters of a libvirt cluster, one virsh process per host per sample (all its
 * commands in one invocation, see node-stats.ts), plus, after a sample, one that starts
 * dirty-rate measurements for mem.active when a domain can take one. Every call opens its own
 * connection, so a daemon that restarted is reached again at the next sample.
 */
export class LibvirtCounters {
  private readonly hosts: HostState[];
  private readonly warned = new Set<string>();
  /** Domains a migration is about to take or holds: no dirty-rate measurement may queue on their job lock. */
  private readonly migrating = new Set<string>();

  constructor(
    private readonly virsh: Virsh,
    hosts: readonly LibvirtHostUri[],
    private readonly warn: (message: string) => void,
  ) {
    this.hosts = hosts.map((host) => ({
      host, node: { cpus: null, mhz: null }, ksmPageKiB: null, noKsm: 'not read yet', previous: null, domains: [], activeKB: new Map(),
      migrationBytes: 0, measuringDirtyRate: false, failedSamples: 0,
    }));
  }

  /** Each host's CPUs × their frequency, as nodeinfo gave them at start, where it gave both. */
  capacitiesMHz(): Record<string, number> {
    return Object.fromEntries(this.hosts.flatMap(({ host, node }) => (node.cpus === null || node.mhz === null ? [] : [[host.name, node.cpus * node.mhz]])));
  }

  /** Reads each node's CPU frequency (virsh nodeinfo), whether it has KSM, and the first cumulative readings. Rejects if a host does not answer (the platform cannot open). */
  async start(): Promise<void> {
    await Promise.all(this.hosts.map(async (state) => {
      const { name, uri } = state.host;
      let stdout: string;
      try {
        stdout = await this.virsh.run(uri, [startCommands()]);
      } catch (error) {
        throw new Error(`libvirt host ${name} (${uri}) does not answer: ${(error as Error).message}`, { cause: error });
      }
      const atMs = performance.now();
      const sections = splitSections(stdout);
      state.node = parseNodeInfo(sections.get('nodeinfo'));
      const snapshot = snapshotOf(stdout, [], atMs);
      const pageKiB = basePageKiB(sections.get('capabilities'));
      if (!snapshot.ksm) state.noKsm = 'node-memory-tune gives no KSM figures (a kernel without KSM)';
      else if (snapshot.ksm.fullScans === 0 && snapshot.ksm.shared === 0) state.noKsm = 'KSM has neither scanned nor merged anything (shm_full_scans and shm_pages_shared 0 when the run began): it does not run';
      else if (pageKiB === null) state.noKsm = 'virsh capabilities gives no page size';
      else state.ksmPageKiB = pageKiB;
      this.accept(state, snapshot);
    }));
  }

  /** Counters of every host, rates averaged since the previous call (or start). A host whose daemon fails costs one warning and no readings for it this time, never a rejection. */
  async sample(): Promise<CounterReading[]> {
    const readings = await Promise.all(this.hosts.map((state) => this.sampleHost(state)));
    return readings.flat();
  }

  /** Bytes a migration stream carried from source to target since its previous report: counted in both hosts' net.usage.average of the interval. */
  addMigrationBytes(source: string, target: string, bytes: number): void {
    for (const state of this.hosts) if (state.host.name === source || state.host.name === target) state.migrationBytes += bytes;
  }

  /** Keeps dirty-rate measurements off `vm` from now until the returned function is called (the migration has ended). */
  migrationBegins(vm: string): () => void {
    this.migrating.add(vm);
    return () => this.migrating.delete(vm);
  }

  /** How each counter is measured here, for run.json (like qemu's counterSources). */
  sources(): Record<string, string> {
    const nodes = this.hosts.map(({ host, node }) => `${host.name} ${node.cpus ?? '?'} × ${node.mhz ?? '?'} MHz`).join(', ');
    const ksmHosts = this.hosts.filter((state) => state.ksmPageKiB !== null).map((state) => `${state.host.name} (${state.ksmPageKiB} KiB pages)`);
    const noKsm = this.hosts.filter((state) => state.ksmPageKiB === null).map((state) => `${state.host.name}: ${state.noKsm}`);
    return {
      [COUNTERS.cpuUsage.name]:
        'busy CPU time of the node over all its CPU time in the interval, both from virsh nodecpustats (busy: user, which includes nice and the guests\' time, and system, which includes irq and softirq; ' +
        'not busy: idle and iowait, as vCenter\'s usage leaves idle out), × the node\'s CPUs × its frequency (virsh nodeinfo, read at start: ' + nodes + '); ' +
        'a share of the node\'s own CPU time, so never above that capacity and independent of when the call ran; time a hypervisor below the node stole is in neither (libvirt leaves steal out); ' +
        `after a sample a host did not answer (${SAMPLE_TIMEOUT_MS / 1000} s timeout), its next answer is a fresh baseline: no reading then, rather than one spanning the outage`,
      [COUNTERS.memConsumed.name]:
        'resident memory of the QEMU processes of the domains counted in vm.count, at the sample (domstats balloon.rss, which libvirt reads from /proc without a balloon device), as the qemu platform counts QEMU\'s RSS; ' +
        'the incoming side of a migration is not in it (libvirt\'s job lock hides its figures); no reading for a host while libvirt leaves a counted domain\'s rss out (its job lock is held, as on the target during post-copy)',
      [COUNTERS.memActive.name]:
        'memory the host\'s counted VMs wrote per second: QEMU\'s page-sampling dirty-rate estimate (virsh domdirtyrate-calc --seconds 1, read with domstats --dirtyrate), MiB/s × 1024, each domain\'s latest, as the qemu platform; ' +
        'memory only read is not seen; a measurement is started only for a running domain without a job (it takes libvirt\'s job lock, which a migration holds), so a migrating VM keeps its last estimate; ' +
        'no reading for a host while one of its counted domains has no measurement yet (about 2 s after it starts or arrives)',
      [COUNTERS.memShared.name]:
        (ksmHosts.length > 0 ? `pages KSM merged, shm_pages_shared + shm_pages_sharing of virsh node-memory-tune × the page size of virsh capabilities, at the sample, on ${ksmHosts.join(', ')} (every process of the host, not only QEMU)` : 'unavailable') +
        (noKsm.length > 0 ? `; no reading on ${noKsm.join('; ')} (libvirt does not show /sys/kernel/mm/ksm/run)` : ''),
      [COUNTERS.memSwapUsed.name]:
        'unavailable: libvirt gives no swap figure, neither of a host (nodememstats: total, free, buffers, cached) nor of a domain (balloon.swap_in/swap_out need a balloon driver, and count pages moved, not pages out)',
      [COUNTERS.netUsage.name]:
        'bytes received and sent on the interfaces of the host\'s domains (domstats net.N.rx.bytes + tx.bytes), only for a domain present on the host at both ends of the interval ' +
        '(one arriving or leaving adds nothing for that interval, never its lifetime counters), plus the migration streams the host sent or received (libvirt\'s job statistics, as the platform reports them), ' +
        'per second of wall time between the two readings, KB = 1024 bytes as the qemu platform; the host\'s own NICs are not seen (libvirt has no counters of them); ' +
        'no reading at a host\'s first answer after a sample it did not answer (the migration bytes of that time are dropped)',
      [COUNTERS.vmCount.name]:
        'active domains of the host (domstats --list-active: running or paused), a migrating VM counting on its source until it switches over: not counted are the incoming side of a migration ' +
        '(state paused, reason migration, without an outgoing migration job: libvirt refuses the incoming side\'s job statistics) and the source after a post-copy switchover or a failed post-copy (paused, reason postcopy or postcopy-failed)',
    };
  }

  /** Counters no reading is recorded for (e.g. mem.shared.average without KSM, mem.swapused.average if libvirt gives no swap figure), with why in sources(). */
  unavailable(): string[] {
    const unavailable: string[] = [COUNTERS.memSwapUsed.name];
    if (this.hosts.every((state) => state.ksmPageKiB === null)) unavailable.push(COUNTERS.memShared.name);
    if (this.hosts.every((state) => state.node.cpus === null || state.node.mhz === null)) unavailable.push(COUNTERS.cpuUsage.name);
    return unavailable;
  }

  private async sampleHost(state: HostState): Promise<CounterReading[]> {
    const { name, uri } = state.host;
    const jobDomains = state.domains;
    let stdout: string;
    const began = performance.now();
    try {
      stdout = await this.virsh.run(uri, [sampleCommands(jobDomains, state.ksmPageKiB !== null)], SAMPLE_TIMEOUT_MS);
    } catch (error) {
      // A call killed at its timeout has no libvirt error to tell, only its command line.
      const reason = performance.now() - began >= SAMPLE_TIMEOUT_MS ? `no answer within ${SAMPLE_TIMEOUT_MS / 1000} s` : (error as Error).message;
      if (state.failedSamples === 0) this.warn(`libvirt host ${name} did not answer a sample: ${reason}; no readings for it until it does`);
      state.failedSamples++;
      state.previous = null;
      state.migrationBytes = 0;
      return [];
    }
    if (state.failedSamples > 0) this.warn(`libvirt host ${name} answers again, after ${state.failedSamples} sample${state.failedSamples === 1 ? '' : 's'} without readings; its rates restart from now`);
    state.failedSamples = 0;
    const snapshot = snapshotOf(stdout, jobDomains, performance.now());
    const previous = state.previous;
    const figures = this.accept(state, snapshot, previous);
    return readingsOf(name, figures);
  }

  /** Takes a good snapshot: the figures since `previous`, the new baseline, and the next dirty-rate measurements. */
  private accept(state: HostState, snapshot: HostSnapshot, previous: HostSnapshot | null = null): HostFigures {
    state.activeKB = latestEstimates(state.activeKB, snapshot);
    const figures = hostFigures({ previous, current: snapshot, node: state.node, ksmPageKiB: state.ksmPageKiB, activeKB: state.activeKB, migrationBytes: state.migrationBytes });
    for (const missing of figures.missing) this.warnOnce(state, missing);
    state.migrationBytes = 0;
    state.previous = snapshot;
    state.domains = [...snapshot.domains.keys()];
    this.measureDirtyRates(state, snapshot);
    return figures;
  }

  private measureDirtyRates(state: HostState, snapshot: HostSnapshot): void {
    if (state.measuringDirtyRate) return;
    const domains = [...snapshot.domains]
      .filter(([name, domain]) => !this.migrating.has(name) && canMeasureDirtyRate(domain, snapshot.jobs.get(name)))
      .map(([name]) => name);
    if (domains.length === 0) return;
    state.measuringDirtyRate = true;
    const commands = domains.map((domain) => `domdirtyrate-calc --seconds 1 -- ${virshQuote(domain)}`).join(' ; ');
    this.virsh.run(state.host.uri, [commands], DIRTY_RATE_TIMEOUT_MS)
      .catch((error: Error) => this.warnOnce(state, `domdirtyrate-calc failed: ${error.message}; mem.active keeps each domain's last measurement`, 'domdirtyrate-calc'))
      .finally(() => {
        state.measuringDirtyRate = false;
      });
  }

  /** Warns of `message` the first time for this host and `topic` (by default the message itself). */
  private warnOnce(state: HostState, message: string, topic = message): void {
    const key = `${state.host.name}\n${topic}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(`libvirt host ${state.host.name}: ${message}`);
  }
}

function readingsOf(host: string, figures: HostFigures): CounterReading[] {
  const readings: CounterReading[] = [];
  for (const key of ['cpuUsage', 'memConsumed', 'memActive', 'memShared', 'netUsage', 'vmCount'] as const) {
    const value = figures[key];
    if (value !== undefined) readings.push({ host, counter: COUNTERS[key].name, instance: '', value, unit: COUNTERS[key].unit });
  }
  return readings;
}
