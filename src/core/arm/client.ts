// The Azure Resource Manager client for discovery: tenants → subscriptions → AKS clusters, and a cluster's
// kubeconfig. Every request goes through one pipeline: a token from the sign-in layer, a bounded number in
// flight, ARM's Retry-After honoured, one retry with a fresh token when ARM challenges for claims or names the
// subscription's real tenant, and an ArmError that says what to do when it still fails.
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Agent } from 'node:https';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { resourceManagerFor } from '../auth/clouds';
import type { Logger } from '../ports';
import { kubeconfigFromCredentialResults } from './credential';
import {
  ArmError,
  cancelledError,
  claimsFromChallenge,
  errorFromAnswer,
  isUntrustedCertificate,
  isWrongTenant,
  noSubscriptionsError,
  requiredTenant,
  retryAfterMs,
  unreachableError,
  describeWait,
  type RequestContext,
} from './errors';
import { sendHttps, TransportError, type HttpsAnswer } from './http';
import { abortableDelay, Limiter } from './limiter';
import { clusterPath, clusterSummary, parseClusterId, subscriptionSummary, tenantSummary } from './resources';
import type {
  ArmTokenProvider,
  ClusterSummary,
  CredentialFormat,
  DiscoverOptions,
  DiscoveryFailure,
  DiscoveryResult,
  SubscriptionSummary,
  TenantSummary,
} from './types';

/** Stable api-versions with the shapes this client reads. */
export const ARM_API_VERSIONS = {
  tenants: '2022-12-01',
  subscriptions: '2022-12-01',
  managedClusters: '2024-09-01',
} as const;

export interface ArmRetryOptions {
  /** Tries per request, the first included. Default 4. */
  maxAttempts?: number;
  /** First backoff after a 5xx or a network failure without Retry-After; doubles each time. Default 1000. */
  baseDelayMs?: number;
  /** A Retry-After longer than this is not sat through: the request fails at once with the wait in the error. Default 60 000. */
  maxRetryAfterMs?: number;
}

export interface ArmClientOptions {
  /** The cloud (`AzurePublicCloud`, `AzureUSGovernmentCloud`, `AzureChinaCloud`); decides the endpoint and the token scope. */
  environment?: string;
  /** An https URL replacing the cloud's ARM endpoint (private clouds, tests); the scope stays the cloud's. */
  endpoint?: string;
  tokenFor: ArmTokenProvider;
  logger: Logger;
  /** Extra trusted CA PEMs (tests); undefined keeps Node's https defaults so VS Code's proxy and CA handling apply. */
  ca?: string[];
  /** Requests in flight at once, across every walk and call of this client. Default 6. */
  concurrency?: number;
  requestTimeoutMs?: number;
  retry?: ArmRetryOptions;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface ClusterCallOptions extends CallOptions {
  /** The subscription's tenant, when the caller knows it; otherwise the one learned from discovery, else home. */
  tenantId?: string;
}

interface ArmRequest {
  method: 'GET' | 'POST';
  /** A path below the endpoint with its query, or a nextLink ARM gave. */
  target: string;
  what: string;
  tenantId?: string;
  /** Remember the tenant ARM names for this subscription when it says the token came from the wrong one. */
  subscriptionId?: string;
  signal?: AbortSignal;
}

const defaultConcurrency = 6;
const defaultRequestTimeoutMs = 30_000;

export class ArmClient {
  readonly endpoint: string;
  readonly scopes: string[];
  readonly cloud: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly tokenFor: ArmTokenProvider;
  private readonly logger: Logger;
  private readonly trust: { secureContext: SecureContext; agent: Agent } | undefined;
  private readonly limiter: Limiter;
  private readonly requestTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxRetryAfterMs: number;
  /**
   * Subscription id (lower case) → the tenant whose token reaches it: the tenant it was listed in (a subscription
   * delegated through Azure Lighthouse names its own tenant but answers the managing tenant's token), or the one
   * ARM named when it refused a token from another.
   */
  private readonly subscriptionTenants = new Map<string, string>();
  /** One token request per (tenant, claims) at a time, however many requests want it. */
  private readonly pendingTokens = new Map<string, Promise<string>>();
  /** ARM throttles per account: after a 429 nothing is sent until its Retry-After has passed. */
  private pausedUntil = 0;

  constructor(options: ArmClientOptions) {
    const resolved = resourceManagerFor(options.environment ?? 'AzurePublicCloud', options.endpoint);
    this.endpoint = resolved.endpoint;
    this.scopes = resolved.scopes;
    this.cloud = resolved.cloud;
    const url = new URL(this.endpoint);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.tokenFor = options.tokenFor;
    this.logger = options.logger;
    // A custom `ca` replaces Node's list entirely, so real hosts would stop verifying without the roots. Built
    // once into a context with its own agent: passed as `ca`, Node would rebuild the context for every new
    // connection and key its socket pool on the whole bundle's text for every request.
    this.trust =
      options.ca && options.ca.length > 0
        ? { secureContext: createSecureContext({ ca: [...rootCertificates, ...options.ca] }), agent: new Agent({ keepAlive: true }) }
        : undefined;
    this.limiter = new Limiter(options.concurrency ?? defaultConcurrency);
    this.requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
    this.maxAttempts = Math.max(1, options.retry?.maxAttempts ?? 4);
    this.baseDelayMs = options.retry?.baseDelayMs ?? 1000;
    this.maxRetryAfterMs = options.retry?.maxRetryAfterMs ?? 60_000;
  }

  /** Every tenant the signed-in account belongs to. */
  async listTenants(options: CallOptions = {}): Promise<TenantSummary[]> {
    const tenants: TenantSummary[] = [];
    for await (const page of this.pages(`/tenants?api-version=${ARM_API_VERSIONS.tenants}`, { what: 'list your Azure tenants', signal: options.signal })) {
      for (const item of page) {
        const tenant = tenantSummary(item);
        if (tenant) tenants.push(tenant);
      }
    }
    return tenants;
  }

  /** The subscriptions the account can see in one tenant; empty when it sees none (see `noSubscriptionsError`). */
  async listSubscriptions(tenantId: string, options: CallOptions = {}): Promise<SubscriptionSummary[]> {
    const subscriptions: SubscriptionSummary[] = [];
    const pages = this.pages(`/subscriptions?api-version=${ARM_API_VERSIONS.subscriptions}`, { what: `list the subscriptions of tenant ${tenantId}`, tenantId, signal: options.signal });
    for await (const page of pages) {
      for (const item of page) {
        const subscription = subscriptionSummary(item);
        if (!subscription) continue;
        this.subscriptionTenants.set(subscription.subscriptionId.toLowerCase(), tenantId);
        subscriptions.push(subscription);
      }
    }
    return subscriptions;
  }

  /** The AKS clusters of a subscription, a page at a time as ARM hands them out (following `nextLink`). */
  async *listClusters(subscription: string | SubscriptionSummary, options: CallOptions = {}): AsyncGenerator<ClusterSummary[], void, undefined> {
    const subscriptionId = typeof subscription === 'string' ? subscription : subscription.subscriptionId;
    const tenantId = this.subscriptionTenants.get(subscriptionId.toLowerCase()) ?? (typeof subscription === 'string' ? undefined : subscription.tenantId);
    const name = typeof subscription === 'string' ? subscriptionId : `${subscription.displayName} (${subscriptionId})`;
    const path = `/subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.ContainerService/managedClusters?api-version=${ARM_API_VERSIONS.managedClusters}`;
    const pages = this.pages(path, { what: `list the AKS clusters of subscription ${name}`, subscriptionId, signal: options.signal, ...(tenantId ? { tenantId } : {}) });
    for await (const page of pages) {
      const clusters: ClusterSummary[] = [];
      const directory = typeof subscription === 'string' ? (this.subscriptionTenants.get(subscriptionId.toLowerCase()) ?? tenantId) : subscription.tenantId;
      for (const item of page) {
        const cluster = clusterSummary(item, directory);
        if (cluster) clusters.push(cluster);
        else this.logger.debug(`ARM listed an entry in subscription ${subscriptionId} that is not a managed cluster; skipped.`);
      }
      yield clusters;
    }
  }

  /**
   * Walks tenants → subscriptions → clusters with at most `concurrency` requests in flight, reporting each
   * subscription and each page of clusters as it arrives. A tenant or subscription that fails is reported and
   * skipped; cancelling rejects with a `cancelled` ArmError and reports nothing more.
   */
  async discoverClusters(options: DiscoverOptions = {}): Promise<DiscoveryResult> {
    const { signal } = options;
    // Every queued request listens for the abort; a walk queues far more than Node's default warning level.
    if (signal) setMaxListeners(0, signal);
    const result: DiscoveryResult = { tenants: [], subscriptions: [], clusters: [], failures: [] };
    /** A subscription visible from two tenants (Azure Lighthouse) is walked once, from the first. */
    const walked = new Set<string>();
    const live = (): boolean => !signal?.aborted;
    const fail = (failure: DiscoveryFailure): void => {
      if (isCancellation(failure.error, signal)) throw cancelledError();
      result.failures.push(failure);
      this.logger.warn(`Azure discovery skipped ${failure.subscriptionId ? `subscription ${failure.subscriptionId}` : `tenant ${failure.tenantId}`}: ${describeFailure(failure.error)}`);
      if (live()) options.onFailure?.(failure);
    };
    const started = Date.now();

    const tenants = options.tenants ? options.tenants.map((tenant) => (typeof tenant === 'string' ? { tenantId: tenant } : tenant)) : await this.listTenants({ signal });
    await Promise.all(
      tenants.map(async (tenant) => {
        result.tenants.push(tenant);
        if (live()) options.onTenant?.(tenant);
        let subscriptions: SubscriptionSummary[];
        try {
          subscriptions = await this.listSubscriptions(tenant.tenantId, { signal });
        } catch (error) {
          fail({ tenantId: tenant.tenantId, error: asError(error) });
          return;
        }
        if (subscriptions.length === 0) {
          fail({ tenantId: tenant.tenantId, error: noSubscriptionsError(tenant) });
          return;
        }
        await Promise.all(
          subscriptions.map(async (subscription) => {
            if (walked.has(subscription.subscriptionId.toLowerCase())) return;
            walked.add(subscription.subscriptionId.toLowerCase());
            result.subscriptions.push(subscription);
            if (live()) options.onSubscription?.(subscription);
            try {
              for await (const page of this.listClusters(subscription, { signal })) {
                result.clusters.push(...page);
                if (live()) options.onClusters?.(subscription, page);
              }
            } catch (error) {
              fail({ tenantId: tenant.tenantId, subscriptionId: subscription.subscriptionId, error: asError(error) });
            }
          }),
        );
      }),
    );
    if (!live()) throw cancelledError();
    this.logger.info(
      `Azure discovery found ${result.clusters.length} AKS clusters in ${result.subscriptions.length} subscriptions of ${result.tenants.length} tenants in ${Date.now() - started} ms${result.failures.length > 0 ? `; ${result.failures.length} skipped` : ''}.`,
    );
    return result;
  }

  async getCluster(clusterId: string, options: ClusterCallOptions = {}): Promise<ClusterSummary> {
    const id = parseClusterId(clusterId);
    const tenantId = options.tenantId ?? this.subscriptionTenants.get(id.subscriptionId.toLowerCase());
    const what = `read AKS cluster ${id.name} (resource group ${id.resourceGroup}, subscription ${id.subscriptionId})`;
    const body = await this.request({
      method: 'GET',
      target: `${clusterPath(id)}?api-version=${ARM_API_VERSIONS.managedClusters}`,
      what,
      subscriptionId: id.subscriptionId,
      ...(tenantId ? { tenantId } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const cluster = clusterSummary(body, this.subscriptionTenants.get(id.subscriptionId.toLowerCase()) ?? tenantId);
    if (!cluster) throw new ArmError('badResponse', `Could not ${what}: Azure's answer is not an AKS cluster resource.`, { code: 'MalformedResource', retryable: false });
    return cluster;
  }

  /**
   * The kubeconfig `az aks get-credentials` would merge, as UTF-8 text. `format` matters only for Entra ID
   * clusters (`exec`: the kubelogin skeleton; `azure`: the historic auth-provider); without it ARM decides
   * (exec from Kubernetes 1.24 on).
   */
  async getClusterUserCredential(clusterId: string, options: ClusterCallOptions & { format?: CredentialFormat } = {}): Promise<string> {
    const query = options.format ? `&format=${options.format}` : '';
    return this.credential(clusterId, 'listClusterUserCredential', query, 'user', options);
  }

  /** The local admin account's kubeconfig (a client certificate); refused when the cluster disables local accounts. */
  async getClusterAdminCredential(clusterId: string, options: ClusterCallOptions = {}): Promise<string> {
    return this.credential(clusterId, 'listClusterAdminCredential', '', 'admin', options);
  }

  private async credential(clusterId: string, action: string, query: string, kind: 'user' | 'admin', options: ClusterCallOptions): Promise<string> {
    const id = parseClusterId(clusterId);
    const tenantId = options.tenantId ?? this.subscriptionTenants.get(id.subscriptionId.toLowerCase());
    const what = `get the ${kind} credentials of AKS cluster ${id.name} (resource group ${id.resourceGroup}, subscription ${id.subscriptionId})`;
    const body = await this.request({
      method: 'POST',
      target: `${clusterPath(id)}/${action}?api-version=${ARM_API_VERSIONS.managedClusters}${query}`,
      what,
      subscriptionId: id.subscriptionId,
      ...(tenantId ? { tenantId } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const kubeconfig = kubeconfigFromCredentialResults(body, what);
    this.logger.info(`Got the ${kind} kubeconfig of AKS cluster ${id.name} (${Buffer.byteLength(kubeconfig)} bytes).`);
    return kubeconfig;
  }

  /** The `value` arrays of a list and every page its `nextLink`s lead to. */
  private async *pages(first: string, request: Omit<ArmRequest, 'method' | 'target'>): AsyncGenerator<unknown[], void, undefined> {
    let target: string | undefined = first;
    let page = 0;
    while (target !== undefined) {
      page++;
      const body = (await this.request({ ...request, method: 'GET', target })) as { value?: unknown; nextLink?: unknown };
      if (!Array.isArray(body.value)) throw new ArmError('badResponse', `Could not ${request.what}: page ${page} of Azure's answer has no list of values.`, { code: 'MalformedList', retryable: false });
      yield body.value;
      target = typeof body.nextLink === 'string' && body.nextLink !== '' ? body.nextLink : undefined;
      if (page > 10_000) throw new ArmError('badResponse', `Could not ${request.what}: Azure kept handing out further pages.`, { code: 'EndlessList', retryable: false });
    }
  }

  /** A URL below our endpoint; a nextLink to anywhere else would carry the token to a host we never chose. */
  private urlFor(target: string, what: string): URL {
    const url = target.startsWith('/') ? new URL(`${this.basePath}${target}`, this.origin) : new URL(target);
    if (url.origin !== this.origin || !url.pathname.startsWith(`${this.basePath}/`)) {
      throw new ArmError('badResponse', `Could not ${what}: Azure's answer links to ${url.host}, which is not the Resource Manager endpoint ${new URL(this.origin).host}; it was not followed.`, { code: 'ForeignNextLink', retryable: false });
    }
    return url;
  }

  private async request(request: ArmRequest): Promise<unknown> {
    const { signal } = request;
    const url = this.urlFor(request.target, request.what);
    const host = url.host;
    let tenantId = request.tenantId;
    let claims: string | undefined;
    let triedClaims = false;
    let triedTenant = false;

    for (let attempt = 1; ; attempt++) {
      const context: RequestContext = { what: request.what, host, ...(tenantId ? { tenantId } : {}) };
      const token = await this.token(tenantId, claims, context, triedTenant ? 'wrongTenant' : triedClaims ? 'claimsChallenge' : 'unauthenticated', signal);
      let started = Date.now();
      let answer: HttpsAnswer;
      try {
        answer = await this.limiter.run(
          async () => {
            // Checked once a slot is free: a request queued before a 429 arrived must wait it out too.
            await abortableDelay(this.pausedUntil - Date.now(), signal, cancelledError);
            started = Date.now();
            const sent = await sendHttps({
              method: request.method,
              url,
              headers: {
                Authorization: `Bearer ${token}`,
                Accept: 'application/json',
                'User-Agent': 'aks-signin',
                'x-ms-client-request-id': randomUUID(),
              },
              timeoutMs: this.requestTimeoutMs,
              ...(this.trust ? { trust: this.trust } : {}),
              ...(signal ? { signal } : {}),
            });
            // Before the slot is released, so the request queued behind this one already sees the pause.
            if (sent.status === 429) this.pauseFor(retryAfterMs(sent.headers) ?? this.backoff(attempt));
            return sent;
          },
          signal,
          cancelledError,
        );
      } catch (error) {
        if (error instanceof ArmError) throw error;
        const code = error instanceof TransportError ? error.code : 'network error';
        if (code === 'ABORTED' || signal?.aborted) throw cancelledError();
        this.logger.debug(`ARM ${request.method} ${url.pathname} failed after ${Date.now() - started} ms: ${code} (attempt ${attempt} of ${this.maxAttempts}).`);
        if (isUntrustedCertificate(code) || attempt >= this.maxAttempts) throw this.logged(unreachableError(code, context, attempt));
        await abortableDelay(this.backoff(attempt), signal, cancelledError);
        continue;
      }
      const elapsed = Date.now() - started;
      this.logger.debug(`ARM ${request.method} ${url.pathname} → ${answer.status} in ${elapsed} ms${tenantId ? ` (tenant ${tenantId})` : ''}.`);

      if (answer.status >= 200 && answer.status < 300) return parseJson(answer, request.what);

      if (answer.status === 401) {
        const challengeClaims = claimsFromChallenge(answer.headers['www-authenticate']);
        if (challengeClaims !== undefined && !triedClaims) {
          // Conditional Access or a revoked session: a token fetched with these claims may satisfy it.
          this.logger.info(`ARM asked for a new token with claims${tenantId ? ` in tenant ${tenantId}` : ''}; asking the sign-in layer once.`);
          triedClaims = true;
          claims = challengeClaims;
          attempt--;
          continue;
        }
        const required = isWrongTenant(answer) ? requiredTenant(answer) : undefined;
        if (required && required !== tenantId?.toLowerCase() && !triedTenant) {
          this.logger.info(`ARM says subscription ${request.subscriptionId ?? '(unknown)'} belongs to tenant ${required}; retrying with a token for it.`);
          if (request.subscriptionId) this.subscriptionTenants.set(request.subscriptionId.toLowerCase(), required);
          triedTenant = true;
          tenantId = required;
          claims = undefined;
          attempt--;
          continue;
        }
        throw this.logged(errorFromAnswer(answer, context));
      }

      if (answer.status === 429 || answer.status >= 500) {
        const asked = retryAfterMs(answer.headers);
        const wait = asked ?? this.backoff(attempt);
        if (attempt >= this.maxAttempts || wait > this.maxRetryAfterMs) {
          throw this.logged(errorFromAnswer(answer, context, { attempts: attempt, ...(asked !== undefined ? { retryAfterMs: asked } : {}) }));
        }
        this.logger.info(`ARM ${request.method} ${url.pathname} answered ${answer.status}; retrying in ${describeWait(wait)} (attempt ${attempt} of ${this.maxAttempts}).`);
        // A 429 paused the whole client already; a 5xx is this request's own trouble.
        if (answer.status !== 429) await abortableDelay(wait, signal, cancelledError);
        continue;
      }

      throw this.logged(errorFromAnswer(answer, context));
    }
  }

  /** ARM throttles per account, so a wait it asks for applies to every request; one longer than the bound is not sat through. */
  private pauseFor(waitMs: number): void {
    if (waitMs <= this.maxRetryAfterMs) this.pausedUntil = Math.max(this.pausedUntil, Date.now() + waitMs);
  }

  /** Exponential with jitter, so many requests failing together do not come back together. */
  private backoff(attempt: number): number {
    const exponential = this.baseDelayMs * 2 ** (attempt - 1);
    return Math.round(exponential * (0.8 + Math.random() * 0.4));
  }

  private async token(tenantId: string | undefined, claims: string | undefined, context: RequestContext, failAs: 'unauthenticated' | 'claimsChallenge' | 'wrongTenant', signal: AbortSignal | undefined): Promise<string> {
    if (signal?.aborted) throw cancelledError();
    const key = `${tenantId ?? ''}\n${claims ?? ''}`;
    let pending = this.pendingTokens.get(key);
    if (!pending) {
      pending = this.tokenFor({ ...(tenantId ? { tenantId } : {}), scopes: this.scopes, ...(claims !== undefined ? { claims } : {}) });
      const settled = pending.finally(() => {
        if (this.pendingTokens.get(key) === settled) this.pendingTokens.delete(key);
      });
      settled.catch(() => undefined);
      this.pendingTokens.set(key, settled);
      pending = settled;
    }
    try {
      const token = await pending;
      if (typeof token !== 'string' || token === '') throw new Error('The sign-in layer returned no token.');
      return token;
    } catch (error) {
      if (error instanceof ArmError) throw error;
      throw this.logged(tokenFailure(error, failAs, context, claims));
    }
  }

  private logged(error: ArmError): ArmError {
    this.logger.warn(`ARM: ${error.kind} (${error.code ?? 'no code'}${error.correlationId ? `, correlation id ${error.correlationId}` : ''}).`);
    return error;
  }
}

function tokenFailure(error: unknown, kind: 'unauthenticated' | 'claimsChallenge' | 'wrongTenant', context: RequestContext, claims: string | undefined): ArmError {
  const cause = error instanceof Error ? error.message : String(error);
  const retryable = (error as { retryable?: unknown } | undefined)?.retryable === true;
  const code = (error as { code?: unknown } | undefined)?.code;
  const details = { cause: error, retryable, ...(typeof code === 'string' ? { code } : {}), ...(context.tenantId ? { tenantId: context.tenantId } : {}) };
  const tenant = context.tenantId ? `tenant ${context.tenantId}` : 'your home tenant';
  switch (kind) {
    case 'claimsChallenge':
      return new ArmError(
        'claimsChallenge',
        `Could not ${context.what}: ${tenant} asks you to sign in again (for example for multi-factor authentication), and it could not be done without you: ${cause}`,
        { ...details, ...(claims !== undefined ? { claims } : {}) },
      );
    case 'wrongTenant':
      return new ArmError('wrongTenant', `Could not ${context.what}: it belongs to ${tenant}, and no token for that tenant could be had: ${cause}`, details);
    case 'unauthenticated':
      return new ArmError('unauthenticated', `Could not ${context.what}: ${cause}`, details);
  }
}

function parseJson(answer: HttpsAnswer, what: string): unknown {
  try {
    const parsed = JSON.parse(answer.body) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed;
  } catch {
    // Falls through to the error below.
  }
  throw new ArmError('badResponse', `Could not ${what}: Azure answered HTTP ${answer.status} with something that is not a JSON object.`, { code: 'MalformedResponse', status: answer.status, retryable: false });
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function isCancellation(error: Error, signal: AbortSignal | undefined): boolean {
  return (error instanceof ArmError && error.kind === 'cancelled') || signal?.aborted === true;
}

function describeFailure(error: Error): string {
  return error instanceof ArmError ? `${error.kind} (${error.code ?? 'no code'})` : error.name;
}

