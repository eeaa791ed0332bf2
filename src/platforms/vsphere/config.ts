import { statSync } from 'node:fs';
import { z } from 'zod';
import { balancerSchema } from '../../config/balancer-schema.ts';
import { loadConfigFile } from '../../config/load-config.ts';
import { InputError } from '../../errors.ts';
import { MAX_SECRET_FILE_BYTES } from '../../input-limits.ts';
import { readInputFile } from '../../read-input-file.ts';

const credentialsSchema = z
  .object({
    /** Names of the environment variables holding the user name and the password. */
    usernameEnv: z.string().min(1).optional(),
    passwordEnv: z.string().min(1).optional(),
    /** A file of `username=...` and `password=...` lines, readable by its owner only (mode 600). */
    file: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => c.file === undefined || (c.usernameEnv === undefined && c.passwordEnv === undefined), {
    message: 'give either file, or usernameEnv and passwordEnv, not both',
  });

const loadSchema = balancerSchema({ cpu: '/cpu', memory: '/memory', memory2: '/memory2' });

export const vsphereConfigSchema = z
  .object({
    /** The vim25 endpoint, e.g. https://vc.example/sdk. */
    url: z.url({ protocol: /^https$/ }),
    credentials: credentialsSchema.prefault({}),
    tls: z
      .object({
        /** A PEM file of a CA to trust besides the system's (`--ca-file` overrides it). */
        caFile: z.string().min(1).optional(),
        /** Skip certificate verification (`--insecure` too): a warning is printed. */
        insecure: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    load: loadSchema,
    /** Per-host counters: each instance of a counter (the seed's mean of instances) or only the host-wide one. */
    instances: z.enum(['each', 'aggregate']).default('each'),
    /** How a VM is moved: MigrateVM_Task where the server has it, else RelocateVM_Task (`auto`), or always one. */
    migrationMethod: z.enum(['auto', 'migrate', 'relocate']).default('auto'),
    /**
     * The longest answer a SOAP call may get, in MiB: a longer one fails the call unread.
     * Parsing takes about 40 times the answer's size in memory, and a string over 512 MiB is
     * more than V8 holds.
     */
    maxResponseMiB: z.number().positive().max(256).default(16),
    timeouts: z
      .object({
        /** Any one SOAP call. */
        callSeconds: z.number().positive().default(60),
        /** A migration task, from its request to its completion. */
        migrationSeconds: z.number().positive().default(3600),
        /** How often a running migration task is polled. */
        taskPollSeconds: z.number().positive().default(1),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((c) => c.url === undefined || !/^[a-z]+:\/\/[^/]*@/i.test(c.url), {
    message: 'url must not carry credentials: use credentials.usernameEnv/passwordEnv or credentials.file',
    path: ['url'],
  });

export type VsphereConfig = z.infer<typeof vsphereConfigSchema>;

export const DEFAULT_USERNAME_ENV = 'VSPHERE_USERNAME';
export const DEFAULT_PASSWORD_ENV = 'VSPHERE_PASSWORD';

export function loadVsphereConfig(path: string | undefined): VsphereConfig {
  if (path === undefined) {
    throw new InputError('the vsphere platform needs --config FILE naming at least url and load.url (see samples/vsphere/config.yaml)');
  }
  return loadConfigFile(path, vsphereConfigSchema);
}

export interface Credentials {
  username: string;
  password: string;
  /** Where they came from, for messages and run.json: never the values. */
  source: Record<string, string>;
}

/** Reads the credentials from the environment or from an owner-only file; no value ever appears in a message. */
export function readCredentials(config: VsphereConfig['credentials'], env: NodeJS.ProcessEnv = process.env): Credentials {
  if (config.file !== undefined) return readCredentialsFile(config.file);
  const usernameEnv = config.usernameEnv ?? DEFAULT_USERNAME_ENV;
  const passwordEnv = config.passwordEnv ?? DEFAULT_PASSWORD_ENV;
  const username = env[usernameEnv];
  const password = env[passwordEnv];
  const missing = [username ? undefined : usernameEnv, password ? undefined : passwordEnv].filter((name) => name !== undefined);
  if (missing.length > 0) throw new InputError(`vSphere credentials: set the environment variable${missing.length > 1 ? 's' : ''} ${missing.join(' and ')}`);
  return { username: username as string, password: password as string, source: { env: `${usernameEnv}, ${passwordEnv}` } };
}

function readCredentialsFile(file: string): Credentials {
  let mode: number;
  try {
    const stats = statSync(file);
    if (!stats.isFile()) throw new InputError(`vSphere credentials: ${file} is not a regular file`);
    mode = stats.mode;
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`vSphere credentials: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  // The mode first: a file others may read is refused before anything is read from it.
  if ((mode & 0o077) !== 0) {
    throw new InputError(`vSphere credentials: ${file} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 ${file}`);
  }
  const text = readInputFile(file, 'credentials file', MAX_SECRET_FILE_BYTES);
  const values = new Map<string, string>();
  for (const [index, rawLine] of text.split('\n').entries()) {
    const line = rawLine.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const equals = line.indexOf('=');
    const key = equals < 0 ? '' : line.slice(0, equals).trim();
    // The message names the line, never its text: it may be the password.
    if (key !== 'username' && key !== 'password') throw new InputError(`vSphere credentials: ${file}:${index + 1}: expected username=... or password=...`);
    values.set(key, line.slice(equals + 1));
  }
  const username = values.get('username');
  const password = values.get('password');
  if (!username || !password) throw new InputError(`vSphere credentials: ${file} needs a username=... line and a password=... line`);
  return { username, password, source: { file } };
}
