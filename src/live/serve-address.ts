import net from 'node:net';
import { InputError } from '../errors.ts';

export interface ServeAddress {
  host: string;
  port: number;
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/;

/**
 * `PORT`, `HOST:PORT` or `[IPv6]:PORT`, on loopback unless `beyondLoopback` says otherwise
 * (a run's metrics are nobody else's business by default). Port 0: any free port.
 */
export function parseServeAddress(text: string, beyondLoopback: boolean): ServeAddress {
  const match = /^(?:\[([^\]]+)\]:|([^:]+):)?(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new InputError(`--serve ${text}: expected PORT or HOST:PORT, e.g. 9100 or 127.0.0.1:9100`);
  const host = match[1] ?? match[2] ?? '127.0.0.1';
  if (host !== 'localhost' && net.isIP(host) === 0) throw new InputError(`--serve ${text}: ${host} is not an IP address (or localhost)`);
  if (!LOOPBACK.test(host) && !beyondLoopback) {
    throw new InputError(`--serve ${text}: ${host} is not a loopback address; add --serve-beyond-loopback to serve the run's metrics there`);
  }
  return { host, port };
}
