/**
 * What one virsh invocation tells of a libvirt host for its counters: the commands, run in
 * one process (virsh takes several commands in one argument, separated by ` ; `) with `echo`
 * markers between them, and parsers of each command's output, as libvirt 9.0 prints it.
 */
import { parseKeyValues } from './virsh.ts';

/** libvirt's virDomainState and the reasons that matter here (include/libvirt/libvirt-domain.h). */
export const DOMAIN_STATE = { running: 1, paused: 3 } as const;
export const PAUSED_REASON = { migration: 2, postcopy: 12, postcopyFailed: 13 } as const;
/** virDomainJobType NONE, and virDomainJobOperation MIGRATION_OUT, as `domjobinfo --rawstats` gives them. */
export const JOB_NONE = 0;
export const JOB_OPERATION_MIGRATION_OUT = 5;

/** Cumulative time of all the node's CPUs in each state, in ns (`virsh nodecpustats`). */
export interface CpuTimes {
  userNs: number;
  systemNs: number;
  idleNs: number;
  iowaitNs: number;
}

/** What `virsh nodeinfo` says of the node's CPUs; null where it does not. */
export interface NodeInfo {
  cpus: number | null;
  mhz: number | null;
}

/** KSM's page counts (`virsh node-memory-tune`, from /sys/kernel/mm/ksm). */
export interface KsmPages {
  shared: number;
  sharing: number;
  fullScans: number;
}

export interface DirtyRate {
  /** virDomainDirtyRateStatus: 0 never started, 1 measuring, 2 measured. */
  status: number;
  startTime: number;
  /** The last measurement's result, in MiB/s; libvirt gives it only once measured. */
  mibPerSecond: number | null;
}

/** One domain's fields of `virsh domstats`; null where libvirt left a field out. */
export interface DomainStats {
  state: number | null;
  reason: number | null;
  /** Resident memory of the domain's QEMU process, in KiB (balloon.rss, also without a balloon device). */
  rssKiB: number | null;
  /** Bytes received plus sent, by interface name (net.N.name); null without the interface group. */
  interfaces: Map<string, number> | null;
  dirtyRate: DirtyRate | null;
}

/** A domain's current job (`virsh domjobinfo --rawstats`). */
export interface DomainJob {
  type: number;
  operation: number | null;
}

/** Everything one sampling invocation read of a host, and when it answered. */
export interface HostSnapshot {
  atMs: number;
  cpu: CpuTimes | null;
  ksm: KsmPages | null;
  domains: Map<string, DomainStats>;
  /** Jobs of the domains asked about (those of the previous snapshot); absent where libvirt refused (the incoming side of a migration). */
  jobs: Map<string, DomainJob>;
}

const MARKER = /@@vmm:([a-z]+\d*)@@/g;
const marker = (section: string): string => `echo @@vmm:${section}@@`;

/** An argument of a virsh command line: virsh's parser takes backslash escapes inside double quotes. */
export function virshQuote(argument: string): string {
  return `"${argument.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * The commands of one sample, as one virsh argument. domstats comes last: virsh exits with
 * the last command's status, so a daemon lost mid-way fails the whole call, while a command
 * libvirt refuses before it (the job of a domain that has left) only leaves its section empty.
 * --nowait: a domain whose job lock is held (the incoming side of a migration) is reported
 * without the fields that need it, rather than making the call wait for the lock.
 */
export function sampleCommands(jobDomains: readonly string[], withKsm: boolean): string {
  return [
    marker('cpu'), 'nodecpustats',
    ...(withKsm ? [marker('ksm'), 'node-memory-tune'] : []),
    ...jobDomains.flatMap((domain, index) => [marker(`job${index}`), `domjobinfo --rawstats -- ${virshQuote(domain)}`]),
    marker('domains'), 'domstats --list-active --nowait --state --balloon --interface --dirtyrate',
  ].join(' ; ');
}

/** start()'s commands: the node's CPUs and page sizes, then a sample with KSM's figures. */
export function startCommands(): string {
  return [marker('nodeinfo'), 'nodeinfo', marker('capabilities'), 'capabilities', sampleCommands([], true)].join(' ; ');
}

/** The output of each command, by its marker's name (echo prints no newline after it: output follows at once). */
export function splitSections(stdout: string): Map<string, string> {
  const sections = new Map<string, string>();
  const found = [...stdout.matchAll(MARKER)];
  found.forEach((match, i) => {
    const end = found[i + 1]?.index ?? stdout.length;
    sections.set(match[1] ?? '', stdout.slice(match.index + match[0].length, end));
  });
  return sections;
}

function wholeNumber(text: string | undefined): number | null {
  return text !== undefined && /^\d+$/.test(text.trim()) ? Number(text.trim()) : null;
}

export function parseCpuTimes(text: string | undefined): CpuTimes | null {
  const values = parseKeyValues(text ?? '');
  const [userNs, systemNs, idleNs, iowaitNs] = ['user', 'system', 'idle', 'iowait'].map((key) => wholeNumber(values.get(key)));
  if (userNs == null || systemNs == null || idleNs == null || iowaitNs == null) return null;
  return { userNs, systemNs, idleNs, iowaitNs };
}

export function parseNodeInfo(text: string | undefined): NodeInfo {
  const values = parseKeyValues(text ?? '');
  const cpus = wholeNumber(values.get('CPU(s)'));
  const mhz = wholeNumber(/^(\d+) MHz$/.exec(values.get('CPU frequency') ?? '')?.[1]);
  return { cpus: cpus !== null && cpus > 0 ? cpus : null, mhz: mhz !== null && mhz > 0 ? mhz : null };
}

export function parseKsm(text: string | undefined): KsmPages | null {
  const values = new Map([...(text ?? '').matchAll(/^\s*(shm_\w+)\s+(\d+)\s*$/gm)].map((match) => [match[1] ?? '', Number(match[2])]));
  const [shared, sharing, fullScans] = ['shm_pages_shared', 'shm_pages_sharing', 'shm_full_scans'].map((key) => values.get(key));
  if (shared === undefined || sharing === undefined || fullScans === undefined) return null;
  return { shared, sharing, fullScans };
}

/** The host's base page size in KiB: the first (smallest) `<pages>` of its CPU in `virsh capabilities`. */
export function basePageKiB(capabilitiesXml: string | undefined): number | null {
  const match = /<pages unit='KiB' size='(\d+)'\/>/.exec(capabilitiesXml ?? '');
  return match ? Number(match[1]) : null;
}

/** The first line's number is the job type (its label is translated), the rest are libvirt's own names. */
export function parseJob(text: string | undefined): DomainJob | null {
  const lines = (text ?? '').split('\n').filter((line) => line.trim() !== '');
  const type = wholeNumber(lines[0]?.slice(lines[0].indexOf(':') + 1));
  if (type === null) return null;
  return { type, operation: wholeNumber(parseKeyValues(lines.slice(1).join('\n')).get('operation')) };
}

/** `virsh domstats` output: a `Domain: 'name'` line, then its `  key=value` lines. */
export function parseDomainStats(text: string | undefined): Map<string, DomainStats> {
  const domains = new Map<string, DomainStats>();
  let fields: Map<string, string> | null = null;
  const records: [string, Map<string, string>][] = [];
  for (const line of (text ?? '').split('\n')) {
    const name = /^Domain: '(.*)'\s*$/.exec(line)?.[1];
    if (name !== undefined) {
      fields = new Map();
      records.push([name, fields]);
      continue;
    }
    const field = /^\s+(?<key>[^=\s]+)=(?<value>.*)$/.exec(line)?.groups;
    if (field?.key !== undefined && field.value !== undefined && fields) fields.set(field.key, field.value.trim());
  }
  for (const [name, values] of records) domains.set(name, domainStatsOf(values));
  return domains;
}

function domainStatsOf(values: Map<string, string>): DomainStats {
  const number = (key: string): number | null => wholeNumber(values.get(key));
  const count = number('net.count');
  let interfaces: Map<string, number> | null = null;
  if (count !== null) {
    interfaces = new Map();
    for (let i = 0; i < count; i++) {
      const name = values.get(`net.${i}.name`);
      const rx = number(`net.${i}.rx.bytes`);
      const tx = number(`net.${i}.tx.bytes`);
      if (name !== undefined && rx !== null && tx !== null) interfaces.set(name, rx + tx);
    }
  }
  const status = number('dirtyrate.calc_status');
  return {
    state: number('state.state'),
    reason: number('state.reason'),
    rssKiB: number('balloon.rss'),
    interfaces,
    dirtyRate: status === null ? null : { status, startTime: number('dirtyrate.calc_start_time') ?? 0, mibPerSecond: number('dirtyrate.megabytes_per_second') },
  };
}

/** A sample's output as a snapshot, the jobs being those of `jobDomains` in their order. */
export function snapshotOf(stdout: string, jobDomains: readonly string[], atMs: number): HostSnapshot {
  const sections = splitSections(stdout);
  const jobs = new Map<string, DomainJob>();
  jobDomains.forEach((domain, index) => {
    const job = parseJob(sections.get(`job${index}`));
    if (job) jobs.set(domain, job);
  });
  return { atMs, cpu: parseCpuTimes(sections.get('cpu')), ksm: parseKsm(sections.get('ksm')), domains: parseDomainStats(sections.get('domains')), jobs };
}

/**
 * Whether an active domain is a VM of this host, for vm.count: a migrating VM counts on its
 * source until it switches over. Not counted: the incoming side of a migration (paused for it,
 * with no outgoing migration job: libvirt refuses the incoming side's job statistics), and the
 * source after a post-copy switchover (paused for post-copy: the VM runs on the target), or
 * after a failed post-copy (the VM is split over both hosts and runs on neither). Null when
 * libvirt gave no state.
 */
export function countsOnHost(domain: DomainStats, job: DomainJob | undefined): boolean | null {
  if (domain.state === null) return null;
  if (domain.state !== DOMAIN_STATE.paused) return true;
  if (domain.reason === PAUSED_REASON.migration) return job?.operation === JOB_OPERATION_MIGRATION_OUT;
  return domain.reason !== PAUSED_REASON.postcopy && domain.reason !== PAUSED_REASON.postcopyFailed;
}

/** A domain whose dirty rate can be measured now: running, no job (a measurement takes libvirt's job lock), none under way. */
export function canMeasureDirtyRate(domain: DomainStats, job: DomainJob | undefined): boolean {
  return domain.state === DOMAIN_STATE.running && job?.type === JOB_NONE && domain.dirtyRate !== null && domain.dirtyRate.status !== 1;
}

/** The counters of one host over one interval, by COUNTERS key; a counter libvirt gave no figure for is absent, with why in `missing`. */
export interface HostFigures {
  cpuUsage?: number;
  memConsumed?: number;
  memActive?: number;
  memShared?: number;
  netUsage?: number;
  vmCount?: number;
  missing: string[];
}

export interface FiguresInput {
  previous: HostSnapshot | null;
  current: HostSnapshot;
  node: NodeInfo;
  /** KSM's page size in KiB where the host runs KSM, else null (no mem.shared reading). */
  ksmPageKiB: number | null;
  /** The latest dirty-rate estimate of each domain on the host, in KB written per second. */
  activeKB: ReadonlyMap<string, number>;
  /** Migration stream bytes the host sent or received in the interval. */
  migrationBytes: number;
}

/**
 * The arithmetic of one host's counters. Rates need the previous snapshot (none after a
 * failed sample: they restart from this one). CPU: busy (user+system) over all CPU time of
 * the interval, both from nodecpustats, × CPUs × MHz. Network: the byte deltas of each
 * interface of each domain present in both snapshots, per second of wall time between them,
 * plus the migration bytes, in KB (1024) per second.
 */
export function hostFigures(input: FiguresInput): HostFigures {
  const { previous, current, node } = input;
  const figures: HostFigures = { missing: [] };
  if (!current.cpu) figures.missing.push('nodecpustats gave no user/system/idle/iowait times');
  else if (node.cpus === null || node.mhz === null) figures.missing.push('nodeinfo gave no CPU count or frequency');
  else if (previous?.cpu) {
    const [now, then] = [current.cpu, previous.cpu];
    const delta = (key: keyof CpuTimes): number => now[key] - then[key];
    const busy = delta('userNs') + delta('systemNs');
    const total = busy + delta('idleNs') + delta('iowaitNs');
    // A reset (the host rebooted) or no tick between the two readings: no reading this time.
    if (total > 0 && busy >= 0 && total >= busy) figures.cpuUsage = (busy / total) * node.cpus * node.mhz;
  }

  const counted: [string, DomainStats][] = [];
  let unknownState = false;
  for (const [name, domain] of current.domains) {
    const counts = countsOnHost(domain, current.jobs.get(name));
    if (counts === null) {
      unknownState = true;
      figures.missing.push(`domstats gave no state.state for domain ${name}`);
    } else if (counts) counted.push([name, domain]);
  }
  if (!unknownState) {
    figures.vmCount = counted.length;
    const rss = counted.map(([, domain]) => domain.rssKiB);
    for (const [name, domain] of counted) if (domain.rssKiB === null) figures.missing.push(`domstats gave no balloon.rss for domain ${name}`);
    if (rss.every((kib) => kib !== null)) figures.memConsumed = sum(rss);
    // A domain not measured yet (it just started or arrived) is no missing field: the reading waits for it.
    const active = counted.map(([name]) => input.activeKB.get(name));
    if (active.every((kb) => kb !== undefined)) figures.memActive = sum(active);
  }

  if (input.ksmPageKiB !== null) {
    if (current.ksm) figures.memShared = (current.ksm.shared + current.ksm.sharing) * input.ksmPageKiB;
    else figures.missing.push('node-memory-tune gave no shm_pages_shared/shm_pages_sharing');
  }

  if (previous) {
    const seconds = (current.atMs - previous.atMs) / 1000;
    let bytes = input.migrationBytes;
    let complete = true;
    for (const [name, domain] of current.domains) {
      const before = previous.domains.get(name);
      if (!before) continue;
      if (!domain.interfaces || !before.interfaces) {
        complete = false;
        figures.missing.push(`domstats gave no interface counters for domain ${name}`);
        continue;
      }
      for (const [nic, now] of domain.interfaces) {
        const then = before.interfaces.get(nic);
        // A counter that went back belongs to a new tap (the domain was restarted): it starts from here.
        if (then !== undefined && now >= then) bytes += now - then;
      }
    }
    if (complete && seconds > 0) figures.netUsage = bytes / 1024 / seconds;
  }
  return figures;
}

/** Each domain's latest dirty-rate estimate in KB per second: QEMU keeps its last result, which libvirt shows only while no measurement is under way. */
export function latestEstimates(previous: ReadonlyMap<string, number>, snapshot: HostSnapshot): Map<string, number> {
  const estimates = new Map<string, number>();
  for (const [name, domain] of snapshot.domains) {
    const rate = domain.dirtyRate;
    const latest = rate?.status === 2 && rate.mibPerSecond !== null ? rate.mibPerSecond * 1024 : previous.get(name);
    if (latest !== undefined) estimates.set(name, latest);
  }
  return estimates;
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
