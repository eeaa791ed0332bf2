import { z } from 'zod';

/** The request path of each client type on the workload servers. */
export interface WorkloadPaths {
  cpu: string;
  memory: string;
  memory2: string;
}

/** The paths of the project's own workload server (guest/server.c), the lab's guests' and those of a cluster running its image. */
export const GUEST_SERVER_PATHS: WorkloadPaths = {
  cpu: '/cpu?digits=4000',
  memory: '/memory?mb=16&ms=100',
  memory2: '/memory2?mb=16&ms=200',
};

/**
 * A config's `load` section for a platform whose load balancer the user runs: where it is,
 * the path of each client type (defaults: `paths`), and the clients' limits.
 */
export function balancerSchema(paths: WorkloadPaths) {
  return z
    .object({
      /** The load balancer in front of the workload servers, e.g. http://lb.example:8080. */
      url: z.url({ protocol: /^https?$/ }),
      /** Reach the load balancer through this unix socket instead of TCP. */
      socketPath: z.string().min(1).optional(),
      /** The request path of each client type (the guest workload server's). */
      paths: z
        .object({
          cpu: z.string().startsWith('/').default(paths.cpu),
          memory: z.string().startsWith('/').default(paths.memory),
          memory2: z.string().startsWith('/').default(paths.memory2),
        })
        .strict()
        .prefault({}),
      requestTimeoutSeconds: z.number().positive().default(600),
      maxRequestsPerClient: z.number().int().positive().default(1_000_000),
      errorPauseSeconds: z.number().positive().default(1),
    })
    .strict();
}

/** The balancer's URL as run.json may keep it: without a user or password. */
export function urlWithoutUserInfo(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}
