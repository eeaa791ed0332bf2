import type { SourcePosition } from '../errors.ts';

/** The seed's three server applications, and so the three kinds of client. */
export const CLIENT_TYPES = ['cpu', 'memory', 'memory2'] as const;
export type ClientType = (typeof CLIENT_TYPES)[number];

/** A host or VM name as written in the script, with where it was written. */
export interface NameAt {
  name: string;
  at: SourcePosition;
}

/** One `host:vm1,vm2` entry of the placement line. */
export interface HostPlacement {
  host: NameAt;
  vms: NameAt[];
}

/** A DRS or DPM threshold as vSphere numbers them: 1 the most conservative, 5 the most aggressive. */
export const POLICY_LEVELS = [1, 2, 3, 4, 5] as const;
export type PolicyLevel = (typeof POLICY_LEVELS)[number];

/**
 * The seed's four actions, then this tool's extension (see the README): `drs`, `dpm` (a
 * level, or null for `off`) and `maintenance`.
 */
export type Action =
  | { kind: 'add-client'; clientType: ClientType; count: number }
  | { kind: 'remove-client'; clientType: ClientType; count: number }
  | { kind: 'migrate'; vm: NameAt; host: NameAt }
  | { kind: 'end' }
  | { kind: 'drs'; level: PolicyLevel | null }
  | { kind: 'dpm'; level: PolicyLevel | null }
  | { kind: 'maintenance'; mode: 'enter' | 'exit'; host: NameAt };

/** A script line: fire `action` `delaySeconds` after the previous action actually fired. */
export interface ScriptStep {
  delaySeconds: number;
  action: Action;
  at: SourcePosition;
}

/** A parsed script: the seed's placement line and its timed actions. */
export interface Experiment {
  file: string;
  placement: HostPlacement[];
  steps: ScriptStep[];
}
