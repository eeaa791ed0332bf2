import http from 'node:http';
import { CORRUPT_WORDS_HEADER } from '../../../src/load/http-load.ts';

export interface CheckedAnswer {
  status: number;
  server: string;
  body: string;
  /** What the server's checks of the job's data found wrong; null when it checked nothing. */
  corruptWords: number | null;
}

/** One GET through the lab's load balancer on a fresh connection, with what the job's checks found. */
export function checkedGet(socketPath: string, requestPath: string, timeoutMs: number): Promise<CheckedAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.get({ socketPath, path: requestPath, host: 'lab', agent: false, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        const server = response.headers['x-server'];
        const words = response.headers[CORRUPT_WORDS_HEADER];
        resolve({
          status: response.statusCode ?? 0,
          server: typeof server === 'string' ? server : '',
          body,
          corruptWords: typeof words === 'string' ? Number(words) : null,
        });
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${requestPath}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}
