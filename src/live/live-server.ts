import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InputError } from '../errors.ts';
import type { RunMetrics } from './run-metrics.ts';
import type { ServeAddress } from './serve-address.ts';

export interface LiveServer {
  /** Where it listens, e.g. http://127.0.0.1:9100 (the port chosen when 0 was asked). */
  url: string;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/** Serves `/metrics` (Prometheus' text format) while the run goes on; anything else is 404. */
export async function startLiveServer(address: ServeAddress, metrics: RunMetrics): Promise<LiveServer> {
  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('vm-monitoring serves /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${String(error)}\n`),
    );
  });
  // A scraper's kept-alive connection must not hold the tool open after the run.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new InputError(`--serve ${hostPort(address.host, address.port)}: cannot listen there: ${error.code === 'EADDRINUSE' ? 'the address is in use' : error.message}`));
    });
    server.listen(address.port, address.host, () => resolve());
  });
  const { address: host, port } = server.address() as AddressInfo;
  return {
    url: `http://${hostPort(host, port)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `host:port`, an IPv6 address in brackets. */
function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
