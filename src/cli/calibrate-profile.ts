import { z } from 'zod';
import { loadConfigFile } from '../config/load-config.ts';
import { InputError, quoted } from '../errors.ts';
import type { SimLabModel } from '../platforms/sim/calibration-runner.ts';
import { simConfigSchema, type VmsConfig } from '../platforms/sim/config.ts';
import { FITTED_GUESTS, migrationProfileSchema, PROFILE_NAMES, PROFILES, type ProfileName } from '../platforms/sim/profiles.ts';

/** What `calibrate --check` predicts with: a profile the sim knows, or a fitted-profile.json that calibrate wrote. */
export interface CheckProfile {
  /** The profile's name, or the file's path. */
  name: string;
  model: SimLabModel;
}

export const DEFAULT_CHECK_PROFILE: ProfileName = 'qemu-lab';

/** Overrides of the sim's VM settings, kept as given (not filled with defaults) once the sim's config schema accepts them. */
const vmsOverridesSchema = z
  .record(z.string(), z.unknown())
  .superRefine((vms, context) => {
    const issue = simConfigSchema.shape.vms.safeParse(vms).error?.issues[0];
    if (issue) context.addIssue({ ...issue });
  })
  .transform((vms) => vms as Partial<VmsConfig>);

/** A profile as `vm-monitoring calibrate` writes it (fitted-profile.json). */
const fittedProfileSchema = z.looseObject({
  based_on: z.enum(PROFILE_NAMES),
  migration: migrationProfileSchema.partial(),
  vms: vmsOverridesSchema.default({}),
});

/** `name` is one of the sim's profiles, or the path of a fitted profile (it has a `/` or a .json/.yaml ending). */
export function checkProfileOf(name: string): CheckProfile {
  if (isProfileName(name)) {
    return { name, model: { migration: PROFILES[name], vms: vmsOverridesSchema.parse(FITTED_GUESTS[name] ?? {}) } };
  }
  if (name.includes('/') || /\.(json|ya?ml)$/.test(name)) return { name, model: readFittedProfile(name) };
  throw new InputError(`--profile: unknown profile ${quoted(name)}: expected ${PROFILE_NAMES.join(', ')} or the path of a fitted-profile.json written by calibrate`);
}

function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}

function readFittedProfile(file: string): SimLabModel {
  const fitted = loadConfigFile(file, fittedProfileSchema);
  return { migration: { ...PROFILES[fitted.based_on], ...fitted.migration }, vms: fitted.vms };
}
