import { rootCertificates } from 'node:tls';
import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { NS, child, descend, el, fragment, parseXml, type Xml, type XmlElement } from './xml.ts';

/** A vim25 fault from the server: its type name (e.g. `InvalidLogin`) and message. */
export class VimFault extends Error {
  constructor(
    readonly faultName: string,
    readonly faultMessage: string,
    readonly method: string,
    /** The fault's detail element, for callers that look inside (e.g. a `ManagedObjectNotFound`'s object). */
    readonly detail: XmlElement | undefined,
  ) {
    super(`${method}: ${faultName}${faultMessage ? `: ${faultMessage}` : ''}`);
    this.name = 'VimFault';
  }
}

/** The server could not be reached or did not answer in time: no fault, no answer. */
export class TransportError extends Error {
  constructor(
    message: string,
    /**
     * `tls`: the certificate was not accepted; `timeout`: no answer in time; `protocol`: not a
     * SOAP answer; `too-large`: an answer longer than the transport accepts, left unread.
     */
    readonly kind: 'tls' | 'timeout' | 'network' | 'protocol' | 'too-large',
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface TlsOptions {
  /** PEM text of a CA to trust besides the system's. */
  ca?: string;
  /** Skip certificate verification altogether. */
  insecure: boolean;
}

/** A managed object reference: `<x type="HostSystem">host-12</x>`. */
export interface MoRef {
  type: string;
  value: string;
}

export function moRef(element: XmlElement | undefined): MoRef | undefined {
  const type = element?.attributes.get('type');
  return element && type ? { type, value: element.text } : undefined;
}

export function sameRef(a: MoRef, b: MoRef): boolean {
  return a.value === b.value && a.type === b.type;
}

export function refXml(name: string, ref: MoRef): Xml {
  return el(name, ref.value, { type: ref.type });
}

/** What one call may cost: its time, and the size of its answer (parsing takes about 40 times that in memory). */
export interface CallLimits {
  timeoutMs: number;
  /** The config's `maxResponseMiB`. */
  maxResponseMiB: number;
}

const SESSION_COOKIE = 'vmware_soap_session';

/**
 * SOAP 1.1 over HTTPS to a vim25 endpoint (`https://vc/sdk`): one POST per call, the session
 * kept in its cookie. Knows envelopes, faults, timeouts and TLS; nothing of any method.
 */
export class SoapTransport {
  private readonly dispatcher: Agent;
  private sessionCookie: string | undefined;
  /** `urn:vim25/<apiVersion>` once the server's version is known; plain `urn:vim25` before. */
  soapAction = 'urn:vim25';

  constructor(
    readonly url: URL,
    tls: TlsOptions,
    private readonly limits: CallLimits,
  ) {
    this.dispatcher = new Agent({
      keepAliveTimeout: 30_000,
      connect: {
        rejectUnauthorized: !tls.insecure,
        ...(tls.ca !== undefined ? { ca: [...rootCertificates, tls.ca] } : {}),
        timeout: limits.timeoutMs,
      },
    });
  }

  /** Forgets the session cookie, e.g. after a logout or before logging in again. */
  dropSession(): void {
    this.sessionCookie = undefined;
  }

  /** Calls `method` on `target` with `body` (the parameters after `_this`); returns the response element. */
  async call(method: string, target: MoRef, body: Xml = fragment()): Promise<XmlElement> {
    const envelope =
      '<?xml version="1.0" encoding="UTF-8"?>' +
      `<soapenv:Envelope xmlns:soapenv="${NS.soapenv}" xmlns:xsi="${NS.xsi}" xmlns:xsd="${NS.xsd}">` +
      `<soapenv:Body>${el(method, fragment(refXml('_this', target), body), { xmlns: NS.vim25 }).xml}</soapenv:Body>` +
      '</soapenv:Envelope>';
    const headers: Record<string, string> = { 'content-type': 'text/xml; charset=utf-8', soapaction: this.soapAction };
    if (this.sessionCookie) headers.cookie = `${SESSION_COOKIE}=${this.sessionCookie}`;
    const { timeoutMs, maxResponseMiB } = this.limits;
    let status: number;
    let text: string | undefined;
    let setCookie: string | string[] | undefined;
    try {
      const response = await request(this.url, {
        method: 'POST',
        headers,
        body: envelope,
        dispatcher: this.dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.statusCode;
      setCookie = response.headers['set-cookie'];
      text = await readBodyUpTo(response, Math.floor(maxResponseMiB * MIB));
    } catch (error) {
      const { kind, message } = describeTransportError(error, this.url, timeoutMs);
      throw new TransportError(`${method}: ${message}`, kind);
    }
    if (text === undefined) {
      throw new TransportError(
        `${method}: the answer from ${this.url.origin} is larger than ${maxResponseMiB} MiB (maxResponseMiB in the vsphere config)`,
        'too-large',
      );
    }
    this.rememberCookie(setCookie);
    let document: XmlElement;
    try {
      document = parseXml(text);
    } catch {
      throw new TransportError(`${method}: HTTP ${status} from ${this.url.origin}, not a SOAP answer`, 'protocol');
    }
    const soapBody = descend(document, 'Body');
    const fault = child(soapBody, 'Fault');
    if (fault) throw faultOf(fault, method);
    const response = child(soapBody, `${method}Response`);
    if (status !== 200 || !response) throw new TransportError(`${method}: HTTP ${status} from ${this.url.origin} without a ${method}Response`, 'protocol');
    return response;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private rememberCookie(setCookie: string | string[] | undefined): void {
    for (const header of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const match = new RegExp(`^\\s*${SESSION_COOKIE}=([^;]*)`).exec(header);
      if (match) this.sessionCookie = match[1];
    }
  }
}

const MIB = 1024 * 1024;

/**
 * The body as UTF-8 text, or undefined if it is longer than `maxBytes`: then reading stops
 * there (or before it starts, for a declared length) and the connection is torn down.
 */
async function readBodyUpTo(response: Dispatcher.ResponseData, maxBytes: number): Promise<string | undefined> {
  const declared = Number(response.headers['content-length']);
  if (declared > maxBytes) {
    response.body.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let length = 0;
  // Leaving the loop early destroys the body, which aborts the request.
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length).toString('utf8');
}

/** `<soapenv:Fault>`: the fault's type from the detail's `xsi:type` (or its element name), its message from faultstring. */
function faultOf(fault: XmlElement, method: string): VimFault {
  const detail = child(fault, 'detail')?.children[0];
  const name = detail?.xsiType?.local ?? detail?.name.local.replace(/Fault$/, '') ?? child(fault, 'faultcode')?.text ?? 'Fault';
  return new VimFault(name, (child(fault, 'faultstring')?.text ?? '').trim(), method, detail);
}

/** A transport failure in words, with what to do about a TLS problem. */
function describeTransportError(error: unknown, url: URL, timeoutMs: number): { kind: TransportError['kind']; message: string } {
  const seconds = timeoutMs / 1000;
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || (error instanceof DOMException && error.name === 'TimeoutError')) {
    return { kind: 'timeout', message: `no answer from ${url.origin} within ${seconds} s` };
  }
  if (error instanceof undiciErrors.ConnectTimeoutError) return { kind: 'timeout', message: `could not connect to ${url.origin} within ${seconds} s` };
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/.test(code)) {
    return {
      kind: 'tls',
      message: `TLS: ${message} (${code}) at ${url.origin}: give the server's CA with --ca-file (or tls.caFile), or skip verification with --insecure`,
    };
  }
  return { kind: 'network', message: `cannot reach ${url.origin}: ${message}${typeof code === 'string' && !message.includes(code) ? ` (${code})` : ''}` };
}
