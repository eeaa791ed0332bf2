import type { CaseResult, CaseWorkload, MigrationCase, SourceProcess } from './migration-case.ts';

/** What a case's workload leaves for the guest to free when it stops: its buffer. */
function freedMBOf(workload: CaseWorkload): number {
  return workload.kind === 'idle' ? 0 : workload.bufferMB;
}

/**
 * The cases, in the order they were measured, each with what its guest had done on the QEMU
 * process it migrated from, from the processes the measurements name: a process no migration
 * had targeted booted the guest, and keeps its boot's TLB until a migration starts from it; a
 * migration's start resets what was freed there (its flush shrinks the TLB back); a case's
 * workload stops on the target where it converged, else on the source. Cases measured without
 * their processes are left as they are.
 */
export function withSourceProcesses(cases: readonly MigrationCase[], measured: ReadonlyMap<string, CaseResult>): MigrationCase[] {
  const targets = new Set<number>();
  const migratedFrom = new Set<number>();
  const freedSince = new Map<number, number[]>();
  return cases.map((migrationCase) => {
    const result = measured.get(migrationCase.id);
    const processes = result?.processes;
    if (!result || !processes) return migrationCase;
    const { source, target } = processes;
    const sourceProcess: SourceProcess = { booted: !targets.has(source) && !migratedFrom.has(source), freedMB: freedSince.get(source) ?? [] };
    targets.add(target);
    migratedFrom.add(source);
    freedSince.set(source, []);
    const stoppedOn = result.converged ? target : source;
    freedSince.set(stoppedOn, [...(freedSince.get(stoppedOn) ?? []), freedMBOf(migrationCase.workload)]);
    return { ...migrationCase, sourceProcess };
  });
}
