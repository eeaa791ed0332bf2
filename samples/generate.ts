/**
 * Writes the sample scripts reproducing the seed's experiments (§3.1–3.3) and the table in
 * samples/README.md. Deterministic: run `npx tsx samples/generate.ts` after changing it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LOADS = ['cpu', 'memory', 'memory2'] as const;
type Load = (typeof LOADS)[number];

type Action =
  | { kind: 'add-client'; load: Load; count: number }
  | { kind: 'migrate'; vm: string; host: string }
  | { kind: 'end' };

interface Step {
  delaySeconds: number;
  action: Action;
}

/** Host name to the VMs on it, in the order they arrived. */
type Placement = Map<string, string[]>;

interface Sample {
  /** Relative to samples/. */
  file: string;
  section: string;
  header: string[];
  placement: Placement;
  steps: Step[];
  expectedMigrations: number;
}

const SAMPLES_DIR = dirname(fileURLToPath(import.meta.url));
const SIM_CONFIG = 'samples/3.3/sim.yaml';
const TABLE_START = '<!-- samples-table:start -->';
const TABLE_END = '<!-- samples-table:end -->';

const hostName = (index: number): string => `esx${index + 1}`;
const vmName = (index: number): string => `vm${String(index + 1).padStart(2, '0')}`;

/** `vmCounts[i]` VMs on host `esx(i+1)`, named vm01, vm02, … host after host. */
function initialPlacement(vmCounts: number[]): Placement {
  let nextVm = 0;
  return new Map(
    vmCounts.map((count, hostIndex) => [hostName(hostIndex), Array.from({ length: count }, () => vmName(nextVm++))]),
  );
}

function copyPlacement(placement: Placement): Placement {
  return new Map([...placement].map(([host, vms]) => [host, [...vms]]));
}

function vmsOn(placement: Placement, host: string): string[] {
  const vms = placement.get(host);
  assert.ok(vms, `unknown host ${host}`);
  return vms;
}

function hostOf(placement: Placement, vm: string): string | undefined {
  return [...placement].find(([, vms]) => vms.includes(vm))?.[0];
}

/** Moves `vm` to `host`, checking that it runs on some other host. */
function moveVm(placement: Placement, vm: string, host: string): void {
  const from = hostOf(placement, vm);
  assert.ok(from, `${vm} is on no host`);
  assert.notEqual(from, host, `${vm} is already on ${host}`);
  const source = vmsOn(placement, from);
  source.splice(source.indexOf(vm), 1);
  vmsOn(placement, host).push(vm);
}

function migrate(placement: Placement, vm: string, host: string, delaySeconds: number): Step {
  moveVm(placement, vm, host);
  return { delaySeconds, action: { kind: 'migrate', vm, host } };
}

/** The VM that has been on `host` the longest. */
function oldestVm(placement: Placement, host: string): string {
  const [vm] = vmsOn(placement, host);
  assert.ok(vm, `no VM on ${host}`);
  return vm;
}

function addClients(load: Load, count: number): Step {
  return { delaySeconds: 0, action: { kind: 'add-client', load, count } };
}

function end(delaySeconds: number): Step {
  return { delaySeconds, action: { kind: 'end' } };
}

const METRICS_INTERVAL_SECONDS = 2000;
const METRICS_SOURCES = ['esx1', 'esx2', 'esx3', 'esx4', 'esx5', 'esx1'];

function metricsSample(load: Load): Sample {
  const clients = load === 'cpu' ? 20 : 40;
  const placement = initialPlacement([4, 4, 4, 4, 4, 0]);
  const target = 'esx6';
  const state = copyPlacement(placement);
  const trips: { vm: string; home: string }[] = [];
  const there = METRICS_SOURCES.map((home) => {
    const vm = oldestVm(state, home);
    trips.push({ vm, home });
    return migrate(state, vm, target, METRICS_INTERVAL_SECONDS);
  });
  const back = trips.reverse().map(({ vm, home }) => migrate(state, vm, home, METRICS_INTERVAL_SECONDS));
  return {
    file: `3.1/${load}.txt`,
    section: '3.1',
    header: [
      `Seed §3.1 "Interesting metrics", ${load} load.`,
      `20 VMs, 4 on each of esx1..esx5; esx6 (the monitored target) starts empty. ${clients} ${load} clients from t=0.`,
      `Every ${METRICS_INTERVAL_SECONDS} s one VM migrates to esx6 (taken from esx1, esx2, esx3, esx4, esx5, esx1)`,
      `until 6 run there, then every ${METRICS_INTERVAL_SECONDS} s one goes back where it came from, in reverse order.`,
    ],
    placement,
    steps: [addClients(load, clients), ...there, ...back, end(METRICS_INTERVAL_SECONDS)],
    expectedMigrations: 12,
  };
}

const MIGRATION_TIME_INTERVAL_SECONDS = 60;

function lightMigrationTimeSample(load: Load): Sample {
  const placement = initialPlacement([1, 1, 1, 1, 1, 0]);
  const hosts = [...placement.keys()];
  const state = copyPlacement(placement);
  const migrations = Array.from({ length: 50 }, () => {
    const emptyIndex = hosts.findIndex((host) => vmsOn(state, host).length === 0);
    const predecessor = hosts[(emptyIndex - 1 + hosts.length) % hosts.length];
    const empty = hosts[emptyIndex];
    assert.ok(predecessor && empty);
    return migrate(state, oldestVm(state, predecessor), empty, MIGRATION_TIME_INTERVAL_SECONDS);
  });
  return {
    file: `3.2/light-${load}.txt`,
    section: '3.2',
    header: [
      `Seed §3.2 "Migration time", light case, ${load} load.`,
      `5 VMs on esx1..esx5, one each; esx6 empty. 5 ${load} clients from t=0.`,
      `50 migrations in a circle, one every ${MIGRATION_TIME_INTERVAL_SECONDS} s: the VM on the host just before the empty one`,
      'moves into it (esx5->esx6, esx4->esx5, ..., esx6->esx1, ...), so no host ever runs two VMs.',
    ],
    placement,
    steps: [addClients(load, 5), ...migrations, end(MIGRATION_TIME_INTERVAL_SECONDS)],
    expectedMigrations: 50,
  };
}

function heavyMigrationTimeSample(load: Load): Sample {
  const placement = initialPlacement([4, 4, 4, 4, 4]);
  const hosts = [...placement.keys()];
  const state = copyPlacement(placement);
  const migrations = Array.from({ length: 60 }, (_, k) => {
    const source = hosts[k % hosts.length];
    const target = hosts[(k + 1) % hosts.length];
    assert.ok(source && target);
    return migrate(state, oldestVm(state, source), target, MIGRATION_TIME_INTERVAL_SECONDS);
  });
  return {
    file: `3.2/heavy-${load}.txt`,
    section: '3.2',
    header: [
      `Seed §3.2 "Migration time", heavy case, ${load} load.`,
      `20 VMs, 4 on each of esx1..esx5. 20 ${load} clients from t=0.`,
      `60 migrations in a circle, one every ${MIGRATION_TIME_INTERVAL_SECONDS} s: migration k moves the VM that has been`,
      'longest on esx(k mod 5 + 1) to the next host (esx1->esx2, esx2->esx3, ..., esx5->esx1, ...).',
    ],
    placement,
    steps: [addClients(load, 20), ...migrations, end(MIGRATION_TIME_INTERVAL_SECONDS)],
    expectedMigrations: 60,
  };
}

const SERVER_PERFORMANCE_INTERVAL_SECONDS = 30;

function serverPerformanceSample(load: Load): Sample {
  const placement = initialPlacement([1, 0, 0, 0, 0, 0]);
  const hosts = [...placement.keys()];
  const state = copyPlacement(placement);
  const migrations = Array.from({ length: 100 }, (_, index) => {
    const source = hosts[index % hosts.length];
    const target = hosts[(index + 1) % hosts.length];
    assert.ok(source && target);
    return migrate(state, oldestVm(state, source), target, SERVER_PERFORMANCE_INTERVAL_SECONDS);
  });
  return {
    file: `3.3/${load}.txt`,
    section: '3.3',
    header: [
      `Seed §3.3 "Server performance", ${load} load.`,
      `One VM (vm01) on esx1; esx2..esx6 empty. 1 ${load} client from t=0.`,
      `100 migrations circling esx1->esx2->...->esx6->esx1, one every ${SERVER_PERFORMANCE_INTERVAL_SECONDS} s.`,
      `Needs short (100-200 ms) requests: run with --config ${SIM_CONFIG}.`,
    ],
    placement,
    steps: [addClients(load, 1), ...migrations, end(SERVER_PERFORMANCE_INTERVAL_SECONDS)],
    expectedMigrations: 100,
  };
}

/** Replays the script from its placement (each migrate must move a VM to another host) and checks its shape. */
function checkSample(sample: Sample): void {
  const state = copyPlacement(sample.placement);
  for (const { action } of sample.steps) {
    if (action.kind === 'migrate') moveVm(state, action.vm, action.host);
  }
  assert.equal(migrationCount(sample), sample.expectedMigrations, `${sample.file}: migration count`);
  assert.equal(sample.steps.at(-1)?.action.kind, 'end', `${sample.file}: must finish with end`);
  assert.equal(sample.steps.filter((step) => step.action.kind === 'end').length, 1, `${sample.file}: one end`);
}

function migrationCount(sample: Sample): number {
  return sample.steps.filter((step) => step.action.kind === 'migrate').length;
}

function renderAction(action: Action): string {
  switch (action.kind) {
    case 'add-client':
      return `add-client ${action.load} ${action.count}`;
    case 'migrate':
      return `migrate ${action.vm} ${action.host}`;
    case 'end':
      return 'end';
  }
}

function renderSample(sample: Sample): string {
  const header = [...sample.header, 'Generated by samples/generate.ts; edit that and regenerate rather than this file.'];
  const placementLine = [...sample.placement].map(([host, vms]) => `${host}:${vms.join(',')}`).join(' ');
  const steps = sample.steps.map(({ delaySeconds, action }) => `${delaySeconds} ${renderAction(action)}`);
  return [...header.map((line) => `# ${line}`), placementLine, ...steps, ''].join('\n');
}

function describeClients(sample: Sample): string {
  return sample.steps
    .flatMap(({ action }) => (action.kind === 'add-client' ? [`${action.count} ${action.load}`] : []))
    .join(', ');
}

function renderTable(samples: Sample[]): string {
  const rows = samples.map((sample) => {
    const vmCount = [...sample.placement.values()].reduce((sum, vms) => sum + vms.length, 0);
    const lengthSeconds = sample.steps.reduce((sum, step) => sum + step.delaySeconds, 0);
    const cells = [
      `[${sample.file}](${sample.file})`,
      `§${sample.section}`,
      sample.placement.size,
      vmCount,
      describeClients(sample),
      migrationCount(sample),
      lengthSeconds,
    ];
    return `| ${cells.join(' | ')} |`;
  });
  return [
    '| File | Seed | Hosts | VMs | Clients | Migrations | Length (s) |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: |',
    ...rows,
  ].join('\n');
}

function updateReadmeTable(samples: Sample[]): void {
  const readmePath = join(SAMPLES_DIR, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  assert.ok(start >= 0 && end > start, `README.md must contain ${TABLE_START} … ${TABLE_END}`);
  const table = `${TABLE_START}\n${renderTable(samples)}\n${TABLE_END}`;
  writeFileSync(readmePath, readme.slice(0, start) + table + readme.slice(end + TABLE_END.length));
}

const samples = [
  ...LOADS.map(metricsSample),
  ...LOADS.map(lightMigrationTimeSample),
  ...LOADS.map(heavyMigrationTimeSample),
  ...LOADS.map(serverPerformanceSample),
];
for (const sample of samples) {
  checkSample(sample);
  const path = join(SAMPLES_DIR, sample.file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderSample(sample));
}
updateReadmeTable(samples);
console.log(`wrote ${samples.length} scripts and the README table`);
