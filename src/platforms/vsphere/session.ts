import { InputError } from '../../errors.ts';
import type { Credentials } from './config.ts';
import { VimFault, moRef, sameRef, type MoRef } from './soap.ts';
import type { VimClient } from './vim-client.ts';
import { child } from './xml.ts';

/** What the container view shows: every object the platform reads. */
const VIEW_TYPES = ['HostSystem', 'VirtualMachine', 'ComputeResource', 'ClusterComputeResource'];

/**
 * A logged-in session on the server: logs in with the credentials (a refusal is a clear error
 * that never carries the password), logs in again once when the session expires, and keeps
 * the session's container view.
 */
export class VimSession {
  private view: MoRef | undefined;
  /** Counts logins, so that calls failing together log in again only once. */
  private generation = 0;
  private relogin: Promise<void> | undefined;
  private closed = false;

  constructor(
    readonly client: VimClient,
    private readonly credentials: Credentials,
    /** The server's URL, for messages. */
    private readonly url: string,
  ) {}

  async login(): Promise<void> {
    const { username, password } = this.credentials;
    try {
      await this.client.login(username, password);
    } catch (error) {
      if (error instanceof VimFault && (error.faultName === 'InvalidLogin' || error.faultName === 'NoPermission')) {
        const source = Object.entries(this.credentials.source).map(([kind, where]) => `${kind} ${where}`).join('');
        throw new InputError(scrub(`vSphere login as '${username}' at ${this.url} failed: ${error.faultName}: ${error.faultMessage || 'rejected'} (credentials from ${source})`, password));
      }
      throw withoutSecret(error, password);
    }
    this.generation++;
    this.view = undefined;
  }

  /**
   * Runs `call`; if the session has expired (NotAuthenticated), logs in again once and retries.
   * The container view lives in the session: a server that reports it gone (vcsim answers a
   * lost session's property reads with ManagedObjectNotFound) gets a new one, and the retry
   * then finds out whether the session is gone too.
   */
  async run<T>(call: () => Promise<T>): Promise<T> {
    let loggedInAgain = false;
    for (let attempt = 0; ; attempt++) {
      const generation = this.generation;
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof VimFault) || this.closed || attempt >= 2) throw error;
        if (error.faultName === 'NotAuthenticated' && !loggedInAgain) {
          loggedInAgain = true;
          if (this.generation === generation) {
            this.relogin ??= this.login().finally(() => (this.relogin = undefined));
            await this.relogin;
          }
          continue;
        }
        const lost = error.faultName === 'ManagedObjectNotFound' ? moRef(child(error.detail, 'obj')) : undefined;
        if (lost && this.view && sameRef(lost, this.view)) {
          this.view = undefined;
          continue;
        }
        throw error;
      }
    }
  }

  /** A view of every host, VM and compute resource under the root folder, made once per session. */
  async containerView(): Promise<MoRef> {
    this.view ??= await this.client.createContainerView(this.client.content.rootFolder, VIEW_TYPES, true);
    return this.view;
  }

  /** Logs out (the session may be gone already) and closes the connection; once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.client.logout();
    } catch {
      // Nothing to undo: the server ends an abandoned session by itself.
    }
    await this.client.close();
  }
}

function scrub(text: string, secret: string): string {
  return secret === '' ? text : text.split(secret).join('***');
}

/** The error, or a copy whose message has the secret masked. */
export function withoutSecret(error: unknown, secret: string): unknown {
  if (!(error instanceof Error) || secret === '' || !error.message.includes(secret)) return error;
  return new Error(scrub(error.message, secret));
}
