import http from 'node:http';

export interface LbAnswer {
  status: number;
  server: string;
  body: string;
}

/** One GET through the load balancer's unix socket, on a fresh connection; `signal` gives it up. */
export function lbGet(socketPath: string, requestPath: string, timeoutMs = 5000, signal?: AbortSignal): Promise<LbAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.get({ socketPath, path: requestPath, host: 'lab', agent: false, timeout: timeoutMs, signal }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        const server = response.headers['x-server'];
        resolve({ status: response.statusCode ?? 0, server: typeof server === 'string' ? server : '', body });
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${requestPath}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/** Resolves once `GET /vm/NAME/ping` answers 200 from `vm`; rejects after `timeoutMs`. */
export async function waitForVmThroughLb(socketPath: string, vm: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer';
  while (performance.now() < deadline) {
    try {
      const answer = await lbGet(socketPath, `/vm/${vm}/ping`, Math.max(200, Math.min(3000, deadline - performance.now())));
      if (answer.status === 200 && answer.server === vm) return;
      last = `HTTP ${answer.status} from '${answer.server}'`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${vm} does not answer through the load balancer: ${last}`);
}
