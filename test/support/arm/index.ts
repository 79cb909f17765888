// An Azure Resource Manager double over HTTPS on loopback: tenants, subscriptions, AKS managed clusters and
// their credentials, answering the way ARM does — bearer JWTs verified against the identity platform double's
// keys and ARM's audiences, the tenant of a subscription enforced, role assignments per user and scope, paging
// by nextLink with $skipToken, claims challenges, throttling with Retry-After, 5xx and resets on demand — and a
// request log (never a token) from which tests and benchmarks read round trips, waits and concurrency.
import { createHash, KeyObject, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { verifyJwt } from '../jwt';
import type { ServerCertificate } from '../tls';
import {
  ACTIONS,
  adminKubeconfig,
  clusterResource,
  clusterResourceId,
  CLOUDS,
  defaultCredentialFormat,
  hasAnyRoleIn,
  isAllowed,
  userKubeconfig,
  type ArmCloudName,
  type ArmClusterSpec,
  type ArmSubscriptionSpec,
  type ArmWorld,
  type RoleAssignment,
} from './world';

export * from './world';

export interface ArmServerOptions {
  tls: ServerCertificate;
  /** 0 or undefined picks a free port. */
  port?: number;
  /** A loopback address; default 127.0.0.1. */
  host?: string;
  /** Asked on every request, so a test can rotate or withdraw keys while the server runs. */
  trustedKeys: () => Map<string, KeyObject> | Promise<Map<string, KeyObject>>;
  /** Accepted `aud` values; default the cloud's ARM audiences. */
  audiences?: string[];
  /** Decides fqdn suffixes, the kubeconfig `--environment` and the default audiences. Default AzurePublicCloud. */
  cloud?: ArmCloudName;
  /** What ARM names as `authorization_uri` in its challenges (only its tenant segment matters to clients). */
  loginHost?: string;
  world: ArmWorld;
  latencyMs?: number;
  pageSize?: Partial<PageSizes>;
}

export interface PageSizes {
  tenants: number;
  subscriptions: number;
  clusters: number;
}

export type ArmFault =
  /** 429 with Retry-After (seconds, or an HTTP date when given as a Date) and ARM's throttling body and headers. */
  | { kind: 'throttle'; retryAfter?: number | Date; scope?: 'subscription' | 'tenant' }
  | { kind: 'serverError'; status?: 500 | 502 | 503 | 504; retryAfter?: number | Date }
  /** The connection is destroyed without an answer. */
  | { kind: 'reset' };

export type ClaimsMode =
  /** Conditional Access wants an authentication context (MFA step-up); a token from the double never satisfies it. */
  | 'mfa'
  /** Continuous access evaluation: sessions were revoked now; tokens issued before are refused, newer ones pass. */
  | 'revokedSessions';

export interface ArmRequestRecord {
  method: string;
  /** Path as sent; the query (api-version, $skipToken, format) is in `query`. */
  path: string;
  query: string;
  status: number;
  /** When it arrived and when it was answered (epoch ms). */
  at: number;
  answeredAt: number;
  /** Requests being handled when this one arrived, itself included. */
  inFlight: number;
  /** `oid` and `tid` of a verified token. */
  oid?: string;
  tid?: string;
  /** ARM's error code, for answers that are not a success. */
  code?: string;
  fault?: ArmFault['kind'];
}

export interface ArmControls {
  latencyMs: number;
  pageSize: PageSizes;
  /** The next `count` requests whose path matches `match` (default: any) get this fault, after authentication. */
  failNext(fault: ArmFault, options?: { count?: number; match?: RegExp }): void;
  /** Per-tenant switch: tokens of this tenant are answered with a claims challenge; `undefined` lifts it. */
  requireClaims(tenantId: string, mode: ClaimsMode | undefined): void;
  assignRole(assignment: RoleAssignment): void;
  removeRoles(principalId: string, scope?: string): void;
}

export interface ArmServer {
  url: string;
  world: ArmWorld;
  controls: ArmControls;
  requests: ArmRequestRecord[];
  /** Most requests handled at once since start or the last `resetStats`. */
  readonly peakInFlight: number;
  resetStats(): void;
  close(): Promise<void>;
}

interface PendingFault {
  fault: ArmFault;
  remaining: number;
  match?: RegExp;
}

interface ClaimsSwitch {
  mode: ClaimsMode;
  /** Revocation moment in epoch seconds, and the tokens of the tenant ARM had already seen by then. */
  revokedAtSeconds: number;
  seenBefore: Set<string>;
}

type Answer = { status: number; body: unknown; headers?: Record<string, string>; code?: string };

class ArmHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const lower = (text: string) => text.toLowerCase();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export async function startArmServer(options: ArmServerOptions): Promise<ArmServer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.test(host)) throw new Error(`the ARM double listens on loopback only, not ${host}`);
  const cloud = options.cloud ?? 'AzurePublicCloud';
  const audiences = new Set((options.audiences ?? CLOUDS[cloud].audiences).map(lower));
  const loginHost = (options.loginHost ?? 'https://login.windows.net').replace(/\/+$/, '');
  const world = options.world;
  const requests: ArmRequestRecord[] = [];
  const faults: PendingFault[] = [];
  const claimsSwitches = new Map<string, ClaimsSwitch>();
  /** Token hashes seen per tenant, so a revocation can refuse exactly the tokens already in use. */
  const seenTokens = new Map<string, Set<string>>();
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let peakInFlight = 0;
  let url = '';

  const controls: ArmControls = {
    latencyMs: options.latencyMs ?? 0,
    pageSize: { tenants: 100, subscriptions: 100, clusters: 100, ...options.pageSize },
    failNext(fault, { count = 1, match } = {}) {
      faults.push({ fault, remaining: count, ...(match ? { match } : {}) });
    },
    requireClaims(tenantId, mode) {
      if (mode === undefined) {
        claimsSwitches.delete(lower(tenantId));
        return;
      }
      claimsSwitches.set(lower(tenantId), { mode, revokedAtSeconds: Math.floor(Date.now() / 1000), seenBefore: new Set(seenTokens.get(lower(tenantId)) ?? []) });
    },
    assignRole(assignment) {
      world.roleAssignments.push(assignment);
    },
    removeRoles(principalId, scope) {
      world.roleAssignments = world.roleAssignments.filter((assignment) => !(lower(assignment.principalId) === lower(principalId) && (scope === undefined || lower(assignment.scope) === lower(scope))));
    },
  };

  function takeFault(path: string): ArmFault | undefined {
    const index = faults.findIndex((pending) => !pending.match || pending.match.test(path));
    if (index < 0) return undefined;
    const pending = faults[index] as PendingFault;
    pending.remaining -= 1;
    if (pending.remaining <= 0) faults.splice(index, 1);
    return pending.fault;
  }

  function challengeHeader(error: string, description: string, extra = ''): Record<string, string> {
    return { 'www-authenticate': `Bearer authorization_uri="${loginHost}/${extra}", error="${error}", error_description="${description}"` };
  }

  interface Caller {
    oid: string;
    tid: string;
    upn: string;
    iss: string;
    hash: string;
  }

  async function authenticate(request: IncomingMessage): Promise<Caller> {
    const header = request.headers.authorization;
    if (!header) throw new ArmHttpError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.", challengeHeader('invalid_token', "The authentication failed because of missing 'Authorization' header."));
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ArmHttpError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is provided in an invalid format.", challengeHeader('invalid_token', "The authentication failed because of invalid 'Authorization' header format."));
    const token = match[1] as string;
    const verification = verifyJwt(token, await options.trustedKeys());
    if (!verification.ok) {
      if (verification.reason === 'token expired') {
        const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number };
        throw new ArmHttpError(
          401,
          'ExpiredAuthenticationToken',
          `The access token expiry UTC time '${new Date((claims.exp ?? 0) * 1000).toUTCString()}' is earlier than current UTC time '${new Date().toUTCString()}'.`,
          challengeHeader('invalid_token', 'The access token has expired.'),
        );
      }
      throw new ArmHttpError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', challengeHeader('invalid_token', 'The access token is invalid.'));
    }
    const { aud, oid, tid, upn, preferred_username: preferredUsername, iss } = verification.claims;
    const audience = Array.isArray(aud) ? aud : [aud];
    if (!audience.some((value) => typeof value === 'string' && audiences.has(lower(value)))) {
      throw new ArmHttpError(
        401,
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${String(audience[0])}'. It should exactly match with one of the allowed audiences ${[...audiences].map((value) => `'${value}'`).join(',')}.`,
        challengeHeader('invalid_token', 'The access token has been obtained from wrong audience or resource.'),
      );
    }
    if (typeof oid !== 'string' || typeof tid !== 'string') {
      throw new ArmHttpError(401, 'InvalidAuthenticationToken', "The received access token is not valid: at least one of the claims 'puid' or 'altsecid' or 'oid' should be present.", challengeHeader('invalid_token', 'The access token is invalid.'));
    }
    const hash = sha256(token);
    return { oid, tid, upn: typeof upn === 'string' ? upn : typeof preferredUsername === 'string' ? preferredUsername : oid, iss: typeof iss === 'string' ? iss : '', hash };
  }

  function claimsChallenge(caller: Caller, iat: number): void {
    const active = claimsSwitches.get(lower(caller.tid));
    if (!active) return;
    let claims: string;
    let message: string;
    if (active.mode === 'revokedSessions') {
      if (iat >= active.revokedAtSeconds && !active.seenBefore.has(caller.hash)) return;
      claims = JSON.stringify({ access_token: { nbf: { essential: true, value: String(active.revokedAtSeconds) }, xms_caeerror: { value: '10012' } } });
      message = 'Continuous access evaluation resulted in claims challenge with result: InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp';
    } else {
      claims = JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } });
      message = 'Continuous access evaluation resulted in claims challenge with result: InteractionRequired and code: InsufficientAuthenticationContext';
    }
    throw new ArmHttpError(401, 'InvalidAuthenticationToken', message, {
      'www-authenticate': `Bearer authorization_uri="${loginHost}/${caller.tid}", error="insufficient_claims", error_description="${message}", claims="${Buffer.from(claims).toString('base64')}"`,
    });
  }

  const authorizationFailed = (caller: Caller, action: string, scope: string) =>
    new ArmHttpError(
      403,
      'AuthorizationFailed',
      `The client '${caller.upn}' with object id '${caller.oid}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );

  function subscriptionFor(caller: Caller, subscriptionId: string): ArmSubscriptionSpec {
    const subscription = world.subscriptions.find((candidate) => lower(candidate.subscriptionId) === lower(subscriptionId));
    if (!subscription) throw new ArmHttpError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
    if (lower(subscription.tenantId) !== lower(caller.tid)) {
      const message = `The access token is from the wrong issuer '${caller.iss}'. It must match the tenant 'https://sts.windows.net/${subscription.tenantId}/' associated with this subscription. Please use the authority (URL) '${loginHost}/${subscription.tenantId}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`;
      throw new ArmHttpError(401, 'InvalidAuthenticationTokenTenant', message, {
        'www-authenticate': `Bearer authorization_uri="${loginHost}/${subscription.tenantId}", error="invalid_token", error_description="The access token is from the wrong issuer. It must match the tenant associated with this subscription. Please use correct authority to get the token."`,
      });
    }
    return subscription;
  }

  function page<T>(items: T[], size: number, query: URLSearchParams, pathname: string): { value: T[]; nextLink?: string } {
    const skipToken = query.get('$skipToken');
    let offset = 0;
    if (skipToken) {
      try {
        offset = (JSON.parse(Buffer.from(skipToken, 'base64url').toString('utf8')) as { o: number }).o;
      } catch {
        throw new ArmHttpError(400, 'InvalidSkipToken', `The skip token '${skipToken}' is not valid.`);
      }
    }
    const value = items.slice(offset, offset + size);
    if (offset + size >= items.length) return { value };
    const next = Buffer.from(JSON.stringify({ o: offset + size })).toString('base64url');
    return { value, nextLink: `${url}${pathname}?api-version=${encodeURIComponent(query.get('api-version') ?? '')}&%24skipToken=${next}` };
  }

  const clustersOf = (subscriptionId: string, resourceGroup?: string) =>
    world.clusters.filter((cluster) => lower(cluster.subscriptionId) === lower(subscriptionId) && (resourceGroup === undefined || lower(cluster.resourceGroup) === lower(resourceGroup)));

  function findCluster(caller: Caller, subscriptionId: string, resourceGroup: string, name: string, action: string): ArmClusterSpec {
    const scope = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${name}`;
    // ARM authorises before it looks: a caller without the role learns nothing about what exists.
    if (!isAllowed(world, caller.oid, action, scope)) throw authorizationFailed(caller, action, scope);
    if (!world.clusters.some((cluster) => lower(cluster.subscriptionId) === lower(subscriptionId) && lower(cluster.resourceGroup) === lower(resourceGroup))) {
      throw new ArmHttpError(404, 'ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`);
    }
    const cluster = clustersOf(subscriptionId, resourceGroup).find((candidate) => lower(candidate.name) === lower(name));
    if (!cluster) {
      throw new ArmHttpError(404, 'ResourceNotFound', `The Resource 'Microsoft.ContainerService/managedClusters/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
    }
    return cluster;
  }

  const credentialResults = (name: string, kubeconfig: string) => ({ kubeconfigs: [{ name, value: Buffer.from(kubeconfig, 'utf8').toString('base64') }] });

  function route(method: string, pathname: string, query: URLSearchParams, caller: Caller): Answer {
    const segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const is = (index: number, text: string) => lower(segments[index] ?? '') === lower(text);
    const managedClusters = (index: number) => is(index, 'providers') && is(index + 1, 'Microsoft.ContainerService') && is(index + 2, 'managedClusters');

    if (segments.length === 1 && is(0, 'tenants') && method === 'GET') {
      const mine = world.tenants.filter((tenant) => tenant.members.some((member) => lower(member) === lower(caller.oid)));
      const items = mine.map((tenant) => ({
        id: `/tenants/${tenant.tenantId}`,
        tenantId: tenant.tenantId,
        countryCode: tenant.countryCode ?? 'US',
        displayName: tenant.displayName,
        domains: [tenant.defaultDomain],
        tenantCategory: tenant.category ?? 'Home',
        defaultDomain: tenant.defaultDomain,
        tenantType: 'AAD',
        tenantBrandingLogoUrl: null,
      }));
      return { status: 200, body: page(items, controls.pageSize.tenants, query, pathname) };
    }
    if (segments.length === 1 && is(0, 'subscriptions') && method === 'GET') {
      const visible = world.subscriptions.filter((subscription) => lower(subscription.tenantId) === lower(caller.tid) && hasAnyRoleIn(world, caller.oid, subscription.subscriptionId));
      const items = visible.map((subscription) => ({
        id: `/subscriptions/${subscription.subscriptionId}`,
        authorizationSource: 'RoleBased',
        managedByTenants: [],
        subscriptionId: subscription.subscriptionId,
        tenantId: subscription.tenantId,
        displayName: subscription.displayName,
        state: subscription.state ?? 'Enabled',
        subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'EnterpriseAgreement_2014-09-01', spendingLimit: 'Off' },
      }));
      return { status: 200, body: page(items, controls.pageSize.subscriptions, query, pathname) };
    }
    if (!is(0, 'subscriptions') || segments.length < 2) throw new ArmHttpError(404, 'NotFound', `The requested path '${pathname}' is not served here.`);

    const subscription = subscriptionFor(caller, segments[1] as string);
    const subscriptionId = subscription.subscriptionId;

    if (segments.length === 2 && method === 'GET') {
      if (!hasAnyRoleIn(world, caller.oid, subscriptionId)) throw authorizationFailed(caller, 'Microsoft.Resources/subscriptions/read', `/subscriptions/${subscriptionId}`);
      return { status: 200, body: { id: `/subscriptions/${subscriptionId}`, subscriptionId, tenantId: subscription.tenantId, displayName: subscription.displayName, state: subscription.state ?? 'Enabled' } };
    }

    // GET /subscriptions/{s}/providers/Microsoft.ContainerService/managedClusters and the same below a resource group.
    const listInGroup = segments.length === 7 && is(2, 'resourceGroups') && managedClusters(4);
    if ((segments.length === 5 && managedClusters(2)) || listInGroup) {
      if (method !== 'GET') throw new ArmHttpError(405, 'MethodNotAllowed', `The method '${method}' is not allowed here.`);
      const resourceGroup = listInGroup ? (segments[3] as string) : undefined;
      const scope = resourceGroup ? `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}` : `/subscriptions/${subscriptionId}`;
      // A list answers with what the caller may read; a caller with no role anywhere in it is refused.
      if (!hasAnyRoleIn(world, caller.oid, subscriptionId)) throw authorizationFailed(caller, ACTIONS.clusterRead, scope);
      const readable = clustersOf(subscriptionId, resourceGroup).filter((cluster) => isAllowed(world, caller.oid, ACTIONS.clusterRead, clusterResourceId(cluster)));
      const items = readable.map((cluster) => clusterResource(world, cluster, cloud));
      return { status: 200, body: page(items, controls.pageSize.clusters, query, pathname) };
    }

    if (segments.length >= 7 && is(2, 'resourceGroups') && managedClusters(4)) {
      const resourceGroup = segments[3] as string;
      const name = segments[7] as string;
      if (segments.length === 8 && method === 'GET') {
        return { status: 200, body: clusterResource(world, findCluster(caller, subscriptionId, resourceGroup, name, ACTIONS.clusterRead), cloud) };
      }
      if (segments.length === 9 && method === 'POST' && is(8, 'listClusterUserCredential')) {
        const cluster = findCluster(caller, subscriptionId, resourceGroup, name, ACTIONS.userCredential);
        const entra = cluster.entra ?? 'managed';
        if (entra === 'none' && cluster.disableLocalAccounts) {
          throw new ArmHttpError(400, 'BadRequest', 'Getting static credential is not allowed because this cluster is set to disable local accounts.');
        }
        const format = query.get('format');
        if (format !== null && format !== 'exec' && format !== 'azure') {
          throw new ArmHttpError(400, 'InvalidParameter', `The value '${format}' of parameter 'format' is not valid. Allowed values: azure, exec.`);
        }
        const chosen = format ?? defaultCredentialFormat(cluster);
        return { status: 200, body: credentialResults('clusterUser', userKubeconfig(world, cluster, cloud, chosen)) };
      }
      if (segments.length === 9 && method === 'POST' && is(8, 'listClusterAdminCredential')) {
        const cluster = findCluster(caller, subscriptionId, resourceGroup, name, ACTIONS.adminCredential);
        if (cluster.disableLocalAccounts) {
          throw new ArmHttpError(400, 'BadRequest', 'Getting static credential is not allowed because this cluster is set to disable local accounts.');
        }
        return { status: 200, body: credentialResults('clusterAdmin', adminKubeconfig(cluster, cloud)) };
      }
    }
    throw new ArmHttpError(404, 'NotFound', `The requested path '${pathname}' is not served here.`);
  }

  function faultAnswer(fault: ArmFault, caller: Caller, pathname: string): Answer {
    const retryAfter = (value: number | Date | undefined): Record<string, string> =>
      value === undefined ? {} : { 'retry-after': value instanceof Date ? value.toUTCString() : String(value) };
    const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(pathname)?.[1];
    switch (fault.kind) {
      case 'throttle': {
        const seconds = fault.retryAfter === undefined ? 0 : fault.retryAfter instanceof Date ? Math.max(0, Math.ceil((fault.retryAfter.getTime() - Date.now()) / 1000)) : fault.retryAfter;
        const tenantScope = fault.scope === 'tenant' || subscriptionId === undefined;
        const message = tenantScope
          ? `Number of 'read' requests for tenant '${caller.tid}' actor '${caller.oid}' exceeded. Please try again after '${seconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`
          : `Number of 'read' requests for subscription '${subscriptionId}' actor '${caller.oid}' exceeded. Please try again after '${seconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`;
        return {
          status: 429,
          code: tenantScope ? 'TenantRequestsThrottled' : 'SubscriptionRequestsThrottled',
          headers: { ...retryAfter(fault.retryAfter), [tenantScope ? 'x-ms-ratelimit-remaining-tenant-reads' : 'x-ms-ratelimit-remaining-subscription-reads']: '0' },
          body: { error: { code: tenantScope ? 'TenantRequestsThrottled' : 'SubscriptionRequestsThrottled', message } },
        };
      }
      case 'serverError': {
        const status = fault.status ?? 500;
        const code = status === 503 ? 'ServiceUnavailable' : status === 504 ? 'GatewayTimeout' : status === 502 ? 'BadGateway' : 'InternalServerError';
        const message =
          status === 500
            ? `Encountered internal server error. Diagnostic information: timestamp '${new Date().toISOString()}', subscription id '${subscriptionId ?? ''}', tracking id '${randomUUID()}', request correlation id '${randomUUID()}'.`
            : 'The server is currently unable to handle the request due to a temporary overloading or maintenance. Please retry the request later.';
        return { status, code, headers: retryAfter(fault.retryAfter), body: { error: { code, message } } };
      }
      case 'reset':
        throw new Error('a reset is not an answer');
    }
  }

  function send(response: ServerResponse, answer: Answer, pathname: string): void {
    const text = JSON.stringify(answer.body);
    const subscriptionScoped = /^\/subscriptions\/[^/]+/i.test(pathname);
    response.writeHead(answer.status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache',
      'content-length': Buffer.byteLength(text),
      'x-ms-request-id': randomUUID(),
      'x-ms-correlation-request-id': randomUUID(),
      [subscriptionScoped ? 'x-ms-ratelimit-remaining-subscription-reads' : 'x-ms-ratelimit-remaining-tenant-reads']: '11999',
      ...(answer.headers ?? {}),
    });
    response.end(text);
  }

  async function handle(request: IncomingMessage, response: ServerResponse, record: ArmRequestRecord, finished: () => void): Promise<void> {
    const parsed = new URL(request.url ?? '/', 'https://127.0.0.1');
    const pathname = parsed.pathname.replace(/\/+$/, '') || '/';
    await delay(controls.latencyMs);
    let caller: Caller | undefined;
    let answer: Answer;
    try {
      // Drain any body; ARM's POSTs here carry none.
      for await (const chunk of request) void chunk;
      caller = await authenticate(request);
      record.oid = caller.oid;
      record.tid = caller.tid;
      const iat = Number((JSON.parse(Buffer.from((request.headers.authorization ?? '').split('.')[1] ?? '', 'base64url').toString('utf8')) as { iat?: number }).iat ?? 0);
      claimsChallenge(caller, iat);
      let seen = seenTokens.get(lower(caller.tid));
      if (!seen) seenTokens.set(lower(caller.tid), (seen = new Set()));
      seen.add(caller.hash);
      const fault = takeFault(pathname);
      if (fault?.kind === 'reset') {
        record.fault = 'reset';
        record.status = 0;
        request.socket.destroy();
        finished();
        return;
      }
      if (fault) {
        record.fault = fault.kind;
        answer = faultAnswer(fault, caller, pathname);
      } else {
        if (!parsed.searchParams.get('api-version')) {
          throw new ArmHttpError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
        }
        answer = route(request.method ?? 'GET', pathname, parsed.searchParams, caller);
      }
    } catch (error) {
      if (!(error instanceof ArmHttpError)) throw error;
      answer = { status: error.status, code: error.code, headers: error.headers, body: { error: { code: error.code, message: error.message } } };
    }
    record.status = answer.status;
    if (answer.code) record.code = answer.code;
    send(response, answer, pathname);
    // Counted as answered once written: the client may read the answer before the server's 'finish' fires.
    finished();
  }

  const server = createServer({ key: options.tls.key, cert: options.tls.cert }, (request, response) => {
    const parsed = new URL(request.url ?? '/', 'https://127.0.0.1');
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    const record: ArmRequestRecord = { method: request.method ?? 'GET', path: parsed.pathname, query: parsed.search, status: 0, at: Date.now(), answeredAt: 0, inFlight };
    requests.push(record);
    let done = false;
    const finished = () => {
      if (done) return;
      done = true;
      inFlight--;
      record.answeredAt = Date.now();
    };
    response.on('close', finished);
    handle(request, response, record, finished).catch((error: unknown) => {
      record.status = 500;
      if (!response.headersSent) send(response, { status: 500, code: 'DoubleFailure', body: { error: { code: 'DoubleFailure', message: error instanceof Error ? error.message : String(error) } } }, parsed.pathname);
      else response.destroy();
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    world,
    controls,
    requests,
    get peakInFlight() {
      return peakInFlight;
    },
    resetStats() {
      requests.length = 0;
      peakInFlight = inFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
