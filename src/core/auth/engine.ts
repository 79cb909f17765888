// The sign-in engine: device-code sign-in, silent refresh, sign-out and the account list for AKS identities,
// on MSAL with its cache in the SecretStore.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CryptoProvider, LogLevel, PromptValue, PublicClientApplication, ResponseMode } from '@azure/msal-node';
import type { AccountInfo, AuthenticationResult, DeviceCodeRequest } from '@azure/msal-node';
import type { DeviceCodePrompt, Disposable, Logger, SecretStore } from '../ports';
import { authorityFor, resolveCloud, scopesFor, standardLoginHosts, tenantOf } from './clouds';
import { AuthError, browserTimedOut, cancelledError, toAuthError } from './errors';
import type { SignInUi } from './methods';
import type { FailureContext } from './errors';
import { HttpsNetworkClient } from './network';
import { Sequencer } from '../sequencer';
import { SecretCachePlugin, SharedCacheSecret } from './token-cache';
import type { AuthTarget, SignedInAccount, TokenResult } from './types';

export interface AuthEngineOptions {
  secretStore: SecretStore;
  logger: Logger;
  /** Extra trusted CA PEMs (tests); undefined keeps Node's https defaults so VS Code's proxy and CA handling apply. */
  ca?: string[];
  requestTimeoutMs?: number;
}

const defaultRequestTimeoutMs = 30_000;
// RFC 8628's defaults, for a platform that leaves them out (MSAL would otherwise poll in a busy loop or forever).
const defaultPollIntervalSeconds = 5;
const defaultCodeLifetimeSeconds = 900;
/** How long a browser sign-in may take before it is given up (the page left open, the tab closed). */
const browserSignInTimeoutMs = 5 * 60_000;

export interface SilentOptions {
  forceRefresh?: boolean;
  /** A claims challenge from a resource (Conditional Access, continuous access evaluation), answered with a new token. */
  claims?: string;
}

export interface BrowserSignInOptions {
  /** Pre-fills the account on the sign-in page. */
  loginHint?: string;
  timeoutMs?: number;
}

/** Everything that shares one cache secret: the secret itself and the queue all its operations go through. */
interface ClientIdState {
  secret: SharedCacheSecret;
  sequencer: Sequencer;
}

/** One MSAL client for one (authority, client id). Replaced whole when its memory can no longer be trusted. */
interface MsalClient {
  pca: PublicClientApplication;
  /** Absent for a flow's own client, whose cache lives in memory until it is adopted. */
  plugin?: SecretCachePlugin;
  network: HttpsNetworkClient;
}

interface ClientSlot {
  target: AuthTarget;
  authority: string;
  shared: ClientIdState;
  client: MsalClient;
}

export class AuthEngine implements Disposable {
  private readonly secretStore: SecretStore;
  private readonly logger: Logger;
  private readonly ca: string[] | undefined;
  private readonly requestTimeoutMs: number;
  private readonly byClientId = new Map<string, ClientIdState>();
  private readonly slots = new Map<string, ClientSlot>();
  private readonly secretSubscription: Disposable;

  constructor(options: AuthEngineOptions) {
    this.secretStore = options.secretStore;
    // Not wrapped in redaction: the core must never log a token, and tests read exactly what it logs. The
    // VS Code log adapter redacts JWT-shaped text as a second line of defence.
    this.logger = options.logger;
    this.ca = options.ca;
    this.requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
    this.secretSubscription = this.secretStore.onDidChange((key) => {
      for (const state of this.byClientId.values()) if (state.secret.key === key) state.secret.markStale();
    });
  }

  dispose(): void {
    this.secretSubscription.dispose();
  }

  /**
   * Device-code sign-in. The prompt is shown once the code is known; `signal` cancels at any point.
   * The wait for the person (up to the code's lifetime, 15 minutes) runs on an MSAL client of its own with
   * a cache in memory, outside the queue of this client id: refreshes of other identities that share the
   * client id, and other sign-ins, go on meanwhile. Only adopting the result into the shared cache queues.
   */
  async signIn(target: AuthTarget, prompt: DeviceCodePrompt, signal?: AbortSignal): Promise<TokenResult> {
    if (signal?.aborted) throw cancelledError();
    const slot = this.slotFor(target);
    const client = this.createDetachedClient(target, slot.authority);
    /** Why the engine itself ended the flow; MSAL's own error for it ("polling cancelled") says less. */
    let stopError: AuthError | undefined;
    let answerEarly: ((error: AuthError) => void) | undefined;
    let expiryTimer: NodeJS.Timeout | undefined;

    const stop = (error: AuthError): void => {
      if (stopError) return;
      stopError = error;
      // MSAL notices this before its next poll; the caller is answered right away.
      request.cancel = true;
      answerEarly?.(error);
    };
    const stopWith = (stoppedBecause: 'cancelled' | 'expired'): void => stop(toAuthError(undefined, this.context(slot, 'signIn', { stoppedBecause, failures: [] })));

    const request: DeviceCodeRequest = {
      scopes: scopesFor(target),
      deviceCodeCallback: (response) => {
        // MSAL hands over whatever the devicecode endpoint answered, even an error body.
        if (!response.userCode || !response.deviceCode || !response.verificationUri) {
          stop(toAuthError({ errorCode: 'invalid_device_code_response' }, this.context(slot, 'signIn', { failures: client.network.takeFailures() })));
          return;
        }
        if (!(response.interval > 0)) response.interval = defaultPollIntervalSeconds;
        if (!(response.expiresIn > 0)) response.expiresIn = defaultCodeLifetimeSeconds;
        // MSAL reads both fields after this callback returns, so fixing them here governs its polling.
        request.timeout = response.expiresIn;
        expiryTimer = setTimeout(() => stopWith('expired'), response.expiresIn * 1000 + 1000);
        expiryTimer.unref();
        try {
          prompt.show({
            userCode: response.userCode,
            verificationUri: response.verificationUri,
            expiresOn: new Date(Date.now() + response.expiresIn * 1000),
            message: response.message,
          });
        } catch (error) {
          this.logger.error(`Could not show the sign-in code: ${error instanceof Error ? error.message : String(error)}`);
          stopWith('cancelled');
        }
      },
    };
    const onAbort = (): void => stopWith('cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });

    const flow = (async () => {
      let result: AuthenticationResult | null;
      try {
        this.logger.info(`Starting device-code sign-in at ${slot.authority} for client ${target.clientId}.`);
        result = await client.pca.acquireTokenByDeviceCode(request);
        if (stopError) throw stopError;
        if (!result) throw new AuthError('platformError', 'The sign-in service returned no token. Try again.', { code: 'empty_result' });
      } catch (error) {
        throw this.failure(slot, client, stopError ?? error, this.context(slot, 'signIn', { failures: client.network.takeFailures() }));
      } finally {
        if (expiryTimer) clearTimeout(expiryTimer);
        signal?.removeEventListener('abort', onAbort);
      }
      const token = await this.adopt(slot, client, result);
      this.logger.info(`Signed in as ${token.account.username} (tenant ${token.account.tenantId}); the token expires ${token.expiresOn.toISOString()}.`);
      return token;
    })();

    const early = new Promise<never>((_resolve, reject) => {
      answerEarly = reject;
    });
    // MSAL stops polling by itself after a cancel; only its answer may arrive after ours.
    flow.catch(() => undefined);
    early.catch(() => undefined);
    return Promise.race([flow, early]);
  }

  /**
   * Browser sign-in: authorization code with PKCE on a loopback redirect (http://localhost:<port>) served
   * by a listener of our own, so the redirect can also come through a port VS Code forwards (Remote-SSH,
   * dev containers: `ui.externalUri`), which MSAL's own interactive listener cannot do. One use, state
   * checked, given up after five minutes; like the device code, it waits outside the client id's queue.
   */
  async signInWithBrowser(target: AuthTarget, ui: Pick<SignInUi, 'openBrowser' | 'externalUri'>, signal?: AbortSignal, options: BrowserSignInOptions = {}): Promise<TokenResult> {
    if (signal?.aborted) throw cancelledError();
    const slot = this.slotFor(target);
    const client = this.createDetachedClient(target, slot.authority);
    const crypto = new CryptoProvider();
    const { verifier, challenge } = await crypto.generatePkceCodes();
    const state = crypto.createNewGuid();
    const listener = await LoopbackListener.start();
    try {
      const local = `http://localhost:${listener.port}/`;
      const redirectUri = ui.externalUri ? await ui.externalUri(local) : local;
      if (!/^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\//i.test(redirectUri)) {
        throw new AuthError('platformError', `The browser cannot reach this machine on a loopback address (VS Code offers ${new URL(redirectUri).origin}), so the sign-in cannot return here. Sign in with a device code instead.`, { code: 'loopback_unreachable', retryable: false });
      }
      const scopes = scopesFor(target);
      const url = await client.pca
        .getAuthCodeUrl({
          scopes,
          redirectUri,
          codeChallenge: challenge,
          codeChallengeMethod: 'S256',
          state,
          responseMode: ResponseMode.QUERY,
          prompt: options.loginHint ? undefined : PromptValue.SELECT_ACCOUNT,
          ...(options.loginHint ? { loginHint: options.loginHint } : {}),
        })
        .catch((error: unknown) => {
          // Discovery runs here: an unreachable or unknown authority fails before any page is opened.
          throw this.failure(slot, client, error, this.context(slot, 'signIn', { failures: client.network.takeFailures() }));
        });
      this.logger.info(`Starting browser sign-in at ${slot.authority} for client ${target.clientId}; the page returns to ${new URL(redirectUri).origin}.`);
      const redirect = listener.next(state, options.timeoutMs ?? browserSignInTimeoutMs, signal);
      redirect.catch(() => undefined);
      if (!(await ui.openBrowser(url))) throw cancelledError();
      const answer = await redirect;
      if ('error' in answer) {
        const codes = [...(answer.description ?? '').matchAll(/AADSTS(\d+)/g)].map((match) => Number(match[1]));
        throw toAuthError({ errorCode: answer.error }, this.context(slot, 'signIn', { failures: [{ type: 'http', host: new URL(slot.authority).host, status: 400, error: answer.error, errorCodes: codes }] }));
      }
      let result: AuthenticationResult;
      try {
        result = await client.pca.acquireTokenByCode({ code: answer.code, scopes, redirectUri, codeVerifier: verifier });
      } catch (error) {
        throw this.failure(slot, client, error, this.context(slot, 'signIn', { failures: client.network.takeFailures() }));
      }
      const token = await this.adopt(slot, client, result);
      this.logger.info(`Signed in in the browser as ${token.account.username} (tenant ${token.account.tenantId}); the token expires ${token.expiresOn.toISOString()}.`);
      return token;
    } finally {
      await listener.close();
    }
  }

  /**
   * Puts what an interactive flow's own client learned into the shared cache of its client id, in the
   * queue, so a refresh running meanwhile and this sign-in never write the cache over each other.
   */
  private adopt(slot: ClientSlot, flowClient: MsalClient, result: AuthenticationResult): Promise<TokenResult> {
    return slot.shared.sequencer.run(async () => {
      slot.shared.secret.markStale();
      const { text } = await slot.shared.secret.current();
      await slot.shared.secret.write(mergeSerializedCaches(text, flowClient.pca.getTokenCache().serialize()));
      return this.tokenResult(slot, result);
    });
  }

  /** A valid token for a signed-in account, refreshed when MSAL thinks it is (nearly) expired or when forced. */
  async acquireSilent(target: AuthTarget, homeAccountId: string, options: SilentOptions = {}): Promise<TokenResult> {
    const slot = this.slotFor(target);
    return slot.shared.sequencer.run(async () => {
      const client = await this.freshClient(slot);
      client.network.takeFailures();
      const found = await this.findAccount(client, homeAccountId);
      if (!found) throw toAuthError({ errorCode: 'no_account_found' }, this.context(slot, 'refresh', { failures: [] }));
      // MSAL looks the cache up by the account's tenant before the authority's, so a token for another
      // tenant of the same person (a guest tenant, a subscription's tenant in Azure) needs the account as
      // seen from that tenant, or MSAL answers with the home tenant's token.
      const tenant = target.tenantId?.trim();
      const account = tenant && isGuid(tenant) && tenant.toLowerCase() !== found.tenantId.toLowerCase() ? { ...found, tenantId: tenant } : found;
      try {
        const result = await client.pca.acquireTokenSilent({
          account,
          scopes: scopesFor(target),
          forceRefresh: options.forceRefresh === true || options.claims !== undefined,
          ...(options.claims !== undefined ? { claims: options.claims } : {}),
        });
        const token = this.tokenResult(slot, result);
        this.logger.debug(`Token for ${token.account.username} at ${slot.authority} is valid until ${token.expiresOn.toISOString()}.`);
        return token;
      } catch (error) {
        throw this.failure(slot, client, error, this.context(slot, 'refresh', { username: account.username, failures: client.network.takeFailures() }));
      }
    });
  }

  /** Forgets the account (and its tokens) for this client id. Signing out of an unknown account is a no-op. */
  async signOut(target: AuthTarget, homeAccountId: string): Promise<void> {
    const slot = this.slotFor(target);
    await slot.shared.sequencer.run(async () => {
      const client = await this.freshClient(slot);
      const account = await this.findAccount(client, homeAccountId);
      if (!account) return;
      await client.pca.getTokenCache().removeAccount(account);
      this.logger.info(`Signed out ${account.username} for client ${target.clientId}.`);
    });
  }

  /** Accounts signed in for this target's client id, limited to the target's tenant when it names one. */
  async accounts(target: AuthTarget): Promise<SignedInAccount[]> {
    const slot = this.slotFor(target);
    return slot.shared.sequencer.run(async () => {
      const client = await this.freshClient(slot);
      const all = await client.pca.getAllAccounts();
      const tenant = target.tenantId?.trim().toLowerCase();
      const inTenant = tenant && isGuid(tenant) ? all.filter((account) => account.tenantId.toLowerCase() === tenant) : all;
      const unique = new Map<string, SignedInAccount>();
      for (const account of inTenant) if (!unique.has(account.homeAccountId)) unique.set(account.homeAccountId, signedInAccount(account));
      return [...unique.values()];
    });
  }

  private slotFor(target: AuthTarget): ClientSlot {
    const authority = authorityFor(target);
    const slotKey = `${authority.toLowerCase()}|${target.clientId}`;
    const existing = this.slots.get(slotKey);
    if (existing) return existing;
    let shared = this.byClientId.get(target.clientId);
    if (!shared) {
      shared = { secret: new SharedCacheSecret(this.secretStore, target.clientId, this.logger), sequencer: new Sequencer() };
      this.byClientId.set(target.clientId, shared);
    }
    const slot: ClientSlot = { target, authority, shared, client: this.createClient(target, authority, shared) };
    this.slots.set(slotKey, slot);
    return slot;
  }

  /**
   * The slot's MSAL client, replaced when the secret changed since it last loaded it (another client or
   * window wrote it): MSAL merges a deserialized cache into its memory, so removals would otherwise be undone.
   */
  private async freshClient(slot: ClientSlot): Promise<MsalClient> {
    // Read the secret again every time: another window may have changed it, and not every host tells this
    // one (code-server's tabs share SecretStorage without a change event). One read per operation is cheap.
    slot.shared.secret.markStale();
    const { generation } = await slot.shared.secret.current();
    const plugin = slot.client.plugin;
    if (plugin && plugin.hasLoaded() && plugin.loadedGeneration() !== generation) {
      slot.client = this.createClient(slot.target, slot.authority, slot.shared);
    }
    return slot.client;
  }

  private createClient(target: AuthTarget, authority: string, shared: ClientIdState): MsalClient {
    return this.buildClient(target, authority, new SecretCachePlugin(shared.secret, this.logger));
  }

  /** A client whose cache lives only in its memory, for a flow that waits for a person. */
  private createDetachedClient(target: AuthTarget, authority: string): MsalClient {
    return this.buildClient(target, authority, undefined);
  }

  private buildClient(target: AuthTarget, authority: string, plugin: SecretCachePlugin | undefined): MsalClient {
    const network = new HttpsNetworkClient({ ...(this.ca ? { ca: this.ca } : {}), requestTimeoutMs: this.requestTimeoutMs });
    const authorityHost = new URL(authority).host;
    const logger = this.logger;
    const pca = new PublicClientApplication({
      auth: {
        clientId: target.clientId,
        authority,
        // Without this MSAL asks login.microsoftonline.com to vouch for a host it does not know.
        ...(standardLoginHosts.has(authorityHost) ? {} : { knownAuthorities: [authorityHost] }),
      },
      ...(plugin ? { cache: { cachePlugin: plugin } } : {}),
      system: {
        networkClient: network,
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Trace,
          loggerCallback(level, message, containsPii) {
            if (containsPii) return;
            const line = `[msal] ${message}`;
            if (level === LogLevel.Error) logger.error(line);
            else if (level === LogLevel.Warning) logger.warn(line);
            else if (level === LogLevel.Info) logger.info(line);
            else if (level === LogLevel.Verbose) logger.debug(line);
            else logger.trace(line);
          },
        },
      },
    });
    return { pca, plugin, network };
  }

  private async findAccount(client: MsalClient, homeAccountId: string): Promise<AccountInfo | null> {
    return client.pca.getTokenCache().getAccountByHomeId(homeAccountId);
  }

  private context(slot: ClientSlot, operation: FailureContext['operation'], extra: Partial<FailureContext> & { failures: FailureContext['failures'] }): FailureContext {
    return {
      operation,
      loginHost: resolveCloud(slot.target.environment, slot.target.authorityHost).loginHost,
      tenant: tenantOf(slot.target),
      clientId: slot.target.clientId,
      serverId: slot.target.serverId,
      ...extra,
    };
  }

  private failure(slot: ClientSlot, client: MsalClient, error: unknown, context: FailureContext): AuthError {
    const authError = toAuthError(error, context);
    const msalCode = (error as { errorCode?: unknown } | undefined)?.errorCode;
    this.logger.warn(`${context.operation} at ${slot.authority} failed: ${authError.kind} (${authError.code ?? String(msalCode ?? 'no code')}).`);
    // MSAL replays a 5xx from memory for a minute; retry timing belongs to the caller's backoff, so start clean.
    if (authError.retryable && slot.client === client) slot.client = this.createClient(slot.target, slot.authority, slot.shared);
    return authError;
  }

  private tokenResult(slot: ClientSlot, result: AuthenticationResult): TokenResult {
    if (!result.account || !result.accessToken || !result.expiresOn) {
      throw new AuthError('platformError', 'The sign-in service returned an incomplete token response. Try again.', { code: 'incomplete_token_response' });
    }
    const refreshToken = refreshTokenFor(slot.shared.secret.lastKnownText(), result.account, slot.target.clientId);
    return {
      accessToken: result.accessToken,
      ...(refreshToken !== undefined ? { refreshToken } : {}),
      expiresOn: earlierExpiry(result.expiresOn, result.accessToken),
      account: signedInAccount(result.account),
    };
  }
}

/**
 * MSAL counts the lifetime from its own rounded clock, which can put the expiry up to a second after the
 * token's `exp`; the legacy kubeconfig format passes it on to kubectl, so never claim more than the token does.
 */
function earlierExpiry(msalExpiry: Date, accessToken: string): Date {
  const payload = accessToken.split('.')[1];
  if (!payload) return msalExpiry;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && exp * 1000 < msalExpiry.getTime() ? new Date(exp * 1000) : msalExpiry;
  } catch {
    return msalExpiry;
  }
}

function signedInAccount(account: AccountInfo): SignedInAccount {
  return {
    homeAccountId: account.homeAccountId,
    username: account.username,
    tenantId: account.tenantId,
    ...(account.name ? { name: account.name } : {}),
  };
}

interface SerializedRefreshToken {
  home_account_id?: string;
  environment?: string;
  client_id?: string;
  family_id?: string;
  secret?: string;
}

/** MSAL has no API for the refresh token; the legacy kubeconfig format needs it, so read the persisted cache. */
export function refreshTokenFor(cacheText: string | undefined, account: AccountInfo, clientId: string): string | undefined {
  if (!cacheText) return undefined;
  let entries: SerializedRefreshToken[];
  try {
    const parsed = JSON.parse(cacheText) as { RefreshToken?: Record<string, SerializedRefreshToken> };
    entries = Object.values(parsed.RefreshToken ?? {});
  } catch {
    return undefined;
  }
  const mine = entries.filter((entry) => entry.home_account_id === account.homeAccountId && typeof entry.secret === 'string' && entry.secret !== '');
  const best =
    mine.find((entry) => entry.client_id === clientId && entry.environment === account.environment) ??
    mine.find((entry) => entry.client_id === clientId) ??
    mine.find((entry) => entry.family_id !== undefined && entry.family_id !== '');
  return best?.secret;
}

function isGuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}


type SerializedSections = Record<string, Record<string, unknown>>;
const cacheSections = ['Account', 'IdToken', 'AccessToken', 'RefreshToken', 'AppMetadata'] as const;

/**
 * MSAL's serialized cache is five maps keyed by entry; what a flow learned replaces the entries with the
 * same keys (the same account, client and scopes) and keeps every other account's.
 */
export function mergeSerializedCaches(existing: string | undefined, learned: string): string {
  const parse = (text: string | undefined): SerializedSections => {
    if (!text || text.trim() === '') return {};
    try {
      const value: unknown = JSON.parse(text);
      return typeof value === 'object' && value !== null ? (value as SerializedSections) : {};
    } catch {
      return {};
    }
  };
  const base = parse(existing);
  const incoming = parse(learned);
  const merged: SerializedSections = { ...base };
  for (const section of cacheSections) merged[section] = { ...(base[section] ?? {}), ...(incoming[section] ?? {}) };
  return JSON.stringify(merged);
}

type Redirect = { code: string } | { error: string; description?: string };

/**
 * The one-use loopback listener of a browser sign-in. It answers only the redirect whose `state` matches,
 * shows a page the person can close, and ignores anything else that reaches the port (a favicon, a
 * second tab, someone else's guess).
 */
class LoopbackListener {
  private waiter: { state: string; resolve(answer: Redirect): void } | undefined;
  private done = false;

  private constructor(
    private readonly servers: Server[],
    readonly port: number,
  ) {
    for (const server of servers) server.on('request', (request: IncomingMessage, response: ServerResponse) => this.handle(request, response));
  }

  /** Listens on 127.0.0.1 and, with the same port, on ::1, because a browser may resolve localhost to either. */
  static async start(): Promise<LoopbackListener> {
    const listen = (server: Server, host: string, port: number) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    const first = createServer();
    const port = await listen(first, '127.0.0.1', 0);
    const servers = [first];
    const second = createServer();
    try {
      await listen(second, '::1', port);
      servers.push(second);
    } catch {
      // No IPv6 loopback here: localhost then resolves to 127.0.0.1 only.
    }
    for (const server of servers) server.unref();
    return new LoopbackListener(servers, port);
  }

  next(state: string, timeoutMs: number, signal?: AbortSignal): Promise<Redirect> {
    return new Promise<Redirect>((resolve, reject) => {
      const timer = setTimeout(() => finish(() => reject(browserTimedOut())), timeoutMs);
      timer.unref();
      const onAbort = () => finish(() => reject(cancelledError()));
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
        settle();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = { state, resolve: (answer) => finish(() => resolve(answer)) };
    });
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const send = (status: number, title: string, text: string) => {
      const html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto"><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></main></body></html>`;
      response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
      response.end(html);
    };
    const waiter = this.waiter;
    if (request.method !== 'GET' || url.pathname !== '/' || this.done || !waiter || url.searchParams.get('state') !== waiter.state) {
      send(this.done ? 410 : 400, 'AKS Sign-In', this.done ? 'This sign-in has already finished. You can close this tab.' : 'This page does not belong to a sign-in that is waiting. Return to VS Code and start the sign-in again.');
      return;
    }
    this.done = true;
    const code = url.searchParams.get('code');
    const error = url.searchParams.get('error');
    if (code) {
      send(200, 'You are signed in', 'AKS Sign-In has your sign-in and is writing the kubeconfig. You can close this tab and return to VS Code.');
      waiter.resolve({ code });
      return;
    }
    const description = url.searchParams.get('error_description') ?? undefined;
    send(400, 'Sign-in did not finish', `The sign-in page answered "${error ?? 'no code'}". Return to VS Code, which says what to do next. You can close this tab.`);
    waiter.resolve({ error: error ?? 'invalid_response', ...(description !== undefined ? { description } : {}) });
  }

  close(): Promise<void> {
    return Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    ).then(() => undefined);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
