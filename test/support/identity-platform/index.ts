// A Microsoft identity platform (Entra ID, v2 endpoints) on loopback HTTPS that real @azure/msal-node talks
// to unchanged: OpenID discovery, the device-code grant with a device-login page, refresh tokens, RS256
// tokens signed with keys the API server double trusts, and controls to make it slow, fail or revoke.
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createSigningKey, jwks, signJwt, type SigningKey } from '../jwt';
import { driveDeviceLogin } from './device-login-driver';
import { decidedPage, enterCodePage, pickAccountPage } from './pages';
import {
  audienceForScopes,
  DEFAULT_APPLICATION_NAMES,
  DEFAULT_TENANT_DOMAINS,
  DEFAULT_TENANTS,
  defaultUsers,
  EntraError,
  errors,
  MULTI_TENANT_SEGMENTS,
  newUserCode,
  type DemoUser,
} from './protocol';

export type { DemoUser } from './protocol';
export * as demo from './protocol';

export interface IdentityPlatformOptions {
  /** Server key and certificate; `ca`, when given, is what the device-login driver verifies them with. */
  tls: { key: string; cert: string; ca?: string };
  /** 0 or undefined picks a free port. */
  port?: number;
  /** Known tenant ids; any other tenant in a path gets AADSTS90002 (discovery answers 400 too). */
  tenants?: string[];
  /** Domain names that stand for a known tenant id. */
  tenantDomains?: Record<string, string>;
  users?: DemoUser[];
  /** Application names the device-login page shows, by client id. */
  applicationNames?: Record<string, string>;
  tokenLifetimeSeconds?: number;
}

export type FailureKind = '5xx' | 'reset' | 'malformed' | 'invalid_grant' | 'temporarily_unavailable';
export type FailureEndpoint = 'token' | 'devicecode' | 'any';

export interface RecordedRequest {
  method: string;
  path: string;
  grantType?: string;
  /** 0 when the connection was reset instead of answered. */
  status: number;
  at: number;
}

export interface IdentityPlatformControls {
  tokenLifetimeSeconds: number;
  /** Added before every response. */
  latencyMs: number;
  deviceCodeLifetimeSeconds: number;
  /** The `interval` the devicecode response tells clients to poll at. */
  pollIntervalSeconds: number;
  /** Entra keeps a used refresh token valid; set this to make each one single-use, to catch clients that keep stale ones. */
  singleUseRefreshTokens: boolean;
  /** The next `count` requests to `endpoint` (default: the token endpoint) fail this way. `any` also covers discovery and keys. */
  failNext(kind: FailureKind, count?: number, endpoint?: FailureEndpoint): void;
  /** Makes every refresh token of this user (or of everybody) fail with invalid_grant AADSTS50173. */
  revokeRefreshTokens(username?: string): void;
  /** Device-code approvals for this client then end in invalid_grant AADSTS65001 (suberror consent_required). */
  requireConsent(clientId: string): void;
}

export interface PendingDeviceCode {
  userCode: string;
  clientId: string;
  scope: string;
  state: DeviceAuthorization['state'];
  expiresAt: number;
}

export interface IdentityPlatform {
  readonly url: string;
  readonly deviceLoginUrl: string;
  readonly users: DemoUser[];
  readonly tenants: string[];
  readonly signingKeys: SigningKey[];
  readonly requests: RecordedRequest[];
  controls: IdentityPlatformControls;
  /** Device codes issued so far, without their secret device_code values, newest last. */
  deviceCodes(): PendingDeviceCode[];
  /** Approves or declines a user code by driving the device-login page over HTTPS like a browser does. */
  completeDeviceLogin(userCode: string, username: string, decision?: 'approve' | 'decline'): Promise<void>;
  close(): Promise<void>;
}

interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scope: string;
  /** Undefined for organizations/common: the approving user's home tenant decides. */
  tenantId: string | undefined;
  expiresAt: number;
  state: 'pending' | 'approved' | 'declined' | 'consent_required' | 'redeemed';
  username?: string;
}

interface RefreshGrant {
  username: string;
  clientId: string;
  tenantId: string | undefined;
  scope: string;
  revoked: boolean;
}

interface PendingFailure {
  kind: FailureKind;
  remaining: number;
  endpoint: FailureEndpoint;
}

type EndpointKind = 'discovery' | 'keys' | 'instance' | 'devicecode' | 'token';

const MAX_BODY_BYTES = 1 << 20;
const DEVICE_CODE_GRANTS = new Set(['device_code', 'urn:ietf:params:oauth:grant-type:device_code']);
const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new EntraError(413, 'invalid_request', 90005, 'The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

const base64urlJson = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function startIdentityPlatform(options: IdentityPlatformOptions): Promise<IdentityPlatform> {
  const tenants = [...(options.tenants ?? DEFAULT_TENANTS)];
  const tenantDomains = options.tenantDomains ?? (options.tenants ? {} : DEFAULT_TENANT_DOMAINS);
  const users = options.users ?? defaultUsers();
  const applicationNames = { ...DEFAULT_APPLICATION_NAMES, ...options.applicationNames };
  const signingKeys = [createSigningKey()];
  const requests: RecordedRequest[] = [];
  const authorizations = new Map<string, DeviceAuthorization>();
  const authorizationsByUserCode = new Map<string, DeviceAuthorization>();
  const refreshGrants = new Map<string, RefreshGrant>();
  const consentRequired = new Set<string>();
  const failures: PendingFailure[] = [];
  const sockets = new Set<Socket>();
  let url = '';

  const controls: IdentityPlatformControls = {
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    latencyMs: 0,
    deviceCodeLifetimeSeconds: 900,
    pollIntervalSeconds: 5,
    singleUseRefreshTokens: false,
    failNext(kind, count = 1, endpoint = 'token') {
      failures.push({ kind, remaining: count, endpoint });
    },
    revokeRefreshTokens(username) {
      for (const grant of refreshGrants.values()) {
        if (username === undefined || grant.username.toLowerCase() === username.toLowerCase()) grant.revoked = true;
      }
    },
    requireConsent(clientId) {
      consentRequired.add(clientId.toLowerCase());
    },
  };

  const appName = (clientId: string) => applicationNames[clientId.toLowerCase()] ?? `Application ${clientId}`;
  const findUser = (username: string) => users.find((user) => user.username.toLowerCase() === username.toLowerCase());
  const usersFor = (tenantId: string | undefined) => users.filter((user) => tenantId === undefined || user.homeTenant === tenantId);

  /** The tenant id a path segment names, or undefined for organizations/common. */
  function resolveTenant(segment: string): string | undefined {
    const lower = segment.toLowerCase();
    if (MULTI_TENANT_SEGMENTS.has(lower)) return undefined;
    const byId = tenants.find((tenant) => tenant.toLowerCase() === lower);
    if (byId) return byId;
    const byDomain = Object.entries(tenantDomains).find(([domain]) => domain.toLowerCase() === lower);
    if (byDomain) return byDomain[1];
    throw errors.unknownTenant(segment);
  }

  function takeFailure(endpoint: EndpointKind): FailureKind | undefined {
    const index = failures.findIndex(
      (failure) => failure.endpoint === endpoint || (failure.endpoint === 'any' && endpoint !== 'instance'),
    );
    if (index < 0) return undefined;
    const failure = failures[index]!;
    failure.remaining -= 1;
    if (failure.remaining <= 0) failures.splice(index, 1);
    return failure.kind;
  }

  function openIdConfiguration(segment: string) {
    const tenantId = resolveTenant(segment);
    const base = `${url}/${segment}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      // Like Entra: a multi-tenant authority publishes a templated issuer; the token's tid fills it in.
      issuer: `${url}/${tenantId ?? '{tenantid}'}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${url}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'name', 'oid', 'tid', 'preferred_username', 'upn', 'groups'],
      tenant_region_scope: 'WW',
      cloud_instance_name: new URL(url).host,
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  function issueTokens(user: DemoUser, clientId: string, scope: string, tenantId: string | undefined) {
    if (user.blocked) throw errors.blocked();
    const audience = audienceForScopes(scope);
    const tid = tenantId ?? user.homeTenant;
    const issuer = `${url}/${tid}/v2.0`;
    const issuedAt = nowSeconds();
    const lifetime = controls.tokenLifetimeSeconds;
    const key = signingKeys[0]!;
    const accessToken = signJwt(
      {
        aud: audience,
        iss: issuer,
        iat: issuedAt,
        nbf: issuedAt,
        exp: issuedAt + lifetime,
        tid,
        oid: user.oid,
        sub: user.oid,
        upn: user.username,
        preferred_username: user.username,
        unique_name: user.username,
        name: user.displayName,
        groups: user.groups,
        appid: clientId,
        azp: clientId,
        scp: 'user.read',
        uti: randomBytes(16).toString('base64url'),
        ver: '2.0',
      },
      key,
    );
    const idToken = signJwt(
      {
        aud: clientId,
        iss: issuer,
        iat: issuedAt,
        nbf: issuedAt,
        exp: issuedAt + lifetime,
        tid,
        oid: user.oid,
        sub: user.oid,
        preferred_username: user.username,
        name: user.displayName,
        ver: '2.0',
      },
      key,
    );
    const refreshToken = `0.A${randomBytes(48).toString('base64url')}`;
    refreshGrants.set(refreshToken, { username: user.username, clientId, tenantId, scope, revoked: false });
    return {
      token_type: 'Bearer',
      scope,
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
      refresh_token: refreshToken,
      id_token: idToken,
      client_info: base64urlJson({ uid: user.oid, utid: tid }),
    };
  }

  function deviceCodeGrant(form: URLSearchParams, clientId: string) {
    const deviceCode = form.get('device_code');
    if (!deviceCode) throw errors.missingParameter('device_code');
    const authorization = authorizations.get(deviceCode);
    if (!authorization) throw errors.badVerificationCode();
    if (authorization.clientId.toLowerCase() !== clientId.toLowerCase()) throw errors.clientMismatch();
    if (authorization.state === 'redeemed') throw errors.deviceCodeRedeemed();
    if (Date.now() >= authorization.expiresAt) throw errors.expiredDeviceCode();
    switch (authorization.state) {
      case 'pending':
        throw errors.authorizationPending();
      case 'declined':
        throw errors.authorizationDeclined();
      case 'consent_required':
        throw errors.consentRequired(authorization.clientId, appName(authorization.clientId));
      case 'approved': {
        const user = findUser(authorization.username ?? '');
        if (!user) throw errors.badVerificationCode();
        const response = issueTokens(user, authorization.clientId, form.get('scope') ?? authorization.scope, authorization.tenantId);
        authorization.state = 'redeemed';
        return response;
      }
    }
  }

  function refreshTokenGrant(form: URLSearchParams, clientId: string, tenantId: string | undefined) {
    const refreshToken = form.get('refresh_token');
    if (!refreshToken) throw errors.missingParameter('refresh_token');
    const grant = refreshGrants.get(refreshToken);
    if (!grant) throw errors.refreshTokenUnknown();
    if (grant.revoked) throw errors.refreshTokenRevoked();
    if (grant.clientId.toLowerCase() !== clientId.toLowerCase()) throw errors.clientMismatch();
    const user = findUser(grant.username);
    if (!user) throw errors.refreshTokenRevoked();
    if (tenantId !== undefined && tenantId !== user.homeTenant) throw errors.userNotInTenant(user.username);
    const response = issueTokens(user, grant.clientId, form.get('scope') ?? grant.scope, tenantId ?? grant.tenantId);
    if (controls.singleUseRefreshTokens) refreshGrants.delete(refreshToken);
    return response;
  }

  function startDeviceAuthorization(form: URLSearchParams, tenantId: string | undefined) {
    const clientId = form.get('client_id');
    if (!clientId) throw errors.missingParameter('client_id');
    const scope = form.get('scope');
    if (!scope) throw errors.missingParameter('scope');
    audienceForScopes(scope);
    let userCode = newUserCode();
    while (authorizationsByUserCode.has(userCode)) userCode = newUserCode();
    const authorization: DeviceAuthorization = {
      deviceCode: `DAQABAAEAAA${randomBytes(96).toString('base64url')}`,
      userCode,
      clientId,
      scope,
      tenantId,
      expiresAt: Date.now() + controls.deviceCodeLifetimeSeconds * 1000,
      state: 'pending',
    };
    authorizations.set(authorization.deviceCode, authorization);
    authorizationsByUserCode.set(userCode, authorization);
    const deviceLoginUrl = `${url}/devicelogin`;
    return {
      user_code: userCode,
      device_code: authorization.deviceCode,
      verification_uri: deviceLoginUrl,
      expires_in: controls.deviceCodeLifetimeSeconds,
      interval: controls.pollIntervalSeconds,
      message: `To sign in, use a web browser to open the page ${deviceLoginUrl} and enter the code ${userCode} to authenticate.`,
    };
  }

  /** The authorization a typed user code names, if it can still be approved. */
  function pendingAuthorization(typedCode: string): DeviceAuthorization | string {
    const userCode = typedCode.toUpperCase().replace(/[\s-]/g, '');
    const authorization = authorizationsByUserCode.get(userCode);
    if (!authorization) return "That code didn't work. Check the code and try again.";
    if (Date.now() >= authorization.expiresAt) return 'That code has expired. Go back to your app or device and start again.';
    if (authorization.state !== 'pending') return 'That code has already been used.';
    return authorization;
  }

  async function handleDeviceLogin(req: IncomingMessage, res: ServerResponse, path: string): Promise<number> {
    if (path === '/devicelogin' && req.method === 'GET') {
      sendHtml(res, 200, enterCodePage());
      return 200;
    }
    const form = new URLSearchParams(await readBody(req));
    const typedCode = form.get('otc') ?? '';
    const authorization = pendingAuthorization(typedCode);
    if (typeof authorization === 'string') {
      sendHtml(res, 400, enterCodePage(authorization, typedCode));
      return 400;
    }
    const eligible = usersFor(authorization.tenantId);
    const accountPage = (error?: string) =>
      pickAccountPage({ userCode: authorization.userCode, appName: appName(authorization.clientId), clientId: authorization.clientId, users: eligible, error });
    if (path === '/devicelogin') {
      sendHtml(res, 200, accountPage());
      return 200;
    }
    const user = eligible.find((candidate) => candidate.username.toLowerCase() === (form.get('username') ?? '').toLowerCase());
    const decision = form.get('decision');
    if (!user || (decision !== 'approve' && decision !== 'decline')) {
      sendHtml(res, 400, accountPage('Pick an account, then choose Approve or Decline.'));
      return 400;
    }
    authorization.username = user.username;
    if (decision === 'decline') authorization.state = 'declined';
    else authorization.state = consentRequired.has(authorization.clientId.toLowerCase()) ? 'consent_required' : 'approved';
    sendHtml(res, 200, decidedPage(appName(authorization.clientId), decision, user));
    return 200;
  }

  function sendFailure(kind: FailureKind, res: ServerResponse, correlationId: string): number {
    switch (kind) {
      case 'reset':
        res.socket?.destroy();
        return 0;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end('{"token_type":"Bearer","expires_in":36');
        return 200;
      case '5xx': {
        const error = errors.serverError();
        sendJson(res, error.status, error.body(correlationId));
        return error.status;
      }
      case 'temporarily_unavailable': {
        const error = errors.temporarilyUnavailable();
        res.setHeader('retry-after', '1');
        sendJson(res, error.status, error.body(correlationId));
        return error.status;
      }
      case 'invalid_grant': {
        const error = errors.refreshTokenUnknown();
        sendJson(res, error.status, error.body(correlationId));
        return error.status;
      }
    }
  }

  async function handleProtocol(req: IncomingMessage, res: ServerResponse, path: string, entry: RecordedRequest): Promise<number> {
    const correlationId = String(req.headers['client-request-id'] ?? randomUUID());
    const respond = (status: number, body: unknown) => {
      sendJson(res, status, body);
      return status;
    };
    try {
      const segments = path.split('/').filter(Boolean);
      let endpoint: EndpointKind | undefined;
      if (req.method === 'GET' && path === '/common/discovery/instance') endpoint = 'instance';
      else if (req.method === 'GET' && segments.length === 4 && segments[1] === 'v2.0' && segments[2] === '.well-known' && segments[3] === 'openid-configuration') endpoint = 'discovery';
      else if (req.method === 'GET' && segments.length === 4 && segments[1] === 'discovery' && segments[2] === 'v2.0' && segments[3] === 'keys') endpoint = 'keys';
      else if (req.method === 'POST' && segments.length === 4 && segments[1] === 'oauth2' && segments[2] === 'v2.0' && segments[3] === 'devicecode') endpoint = 'devicecode';
      else if (req.method === 'POST' && segments.length === 4 && segments[1] === 'oauth2' && segments[2] === 'v2.0' && segments[3] === 'token') endpoint = 'token';
      if (!endpoint) throw errors.notFound(path);
      const tenantSegment = segments[0]!;
      const form = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : new URLSearchParams();
      if (endpoint === 'token') entry.grantType = form.get('grant_type') ?? undefined;

      const failure = takeFailure(endpoint);
      if (failure) return sendFailure(failure, res, correlationId);

      switch (endpoint) {
        case 'instance':
          return respond(200, {
            tenant_discovery_endpoint: `${url}/common/v2.0/.well-known/openid-configuration`,
            'api-version': '1.1',
            metadata: [{ preferred_network: new URL(url).host, preferred_cache: new URL(url).host, aliases: [new URL(url).host] }],
          });
        case 'discovery':
          return respond(200, openIdConfiguration(tenantSegment));
        case 'keys':
          resolveTenant(tenantSegment);
          return respond(200, jwks(signingKeys));
        case 'devicecode':
          return respond(200, startDeviceAuthorization(form, resolveTenant(tenantSegment)));
        case 'token': {
          const tenantId = resolveTenant(tenantSegment);
          const clientId = form.get('client_id');
          if (!clientId) throw errors.missingParameter('client_id');
          const grantType = form.get('grant_type');
          if (!grantType) throw errors.missingParameter('grant_type');
          if (DEVICE_CODE_GRANTS.has(grantType)) return respond(200, deviceCodeGrant(form, clientId));
          if (grantType === 'refresh_token') return respond(200, refreshTokenGrant(form, clientId, tenantId));
          throw errors.unsupportedGrantType(grantType);
        }
      }
    } catch (error) {
      if (error instanceof EntraError) return respond(error.status, error.body(correlationId));
      throw error;
    }
  }

  async function handleTestControls(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (!LOOPBACK_ADDRESSES.has(req.socket.remoteAddress ?? '')) {
      sendJson(res, 403, { error: 'test controls answer loopback clients only' });
      return;
    }
    try {
      const body = req.method === 'POST' ? await readBody(req) : '';
      const input = (body ? JSON.parse(body) : {}) as Record<string, unknown>;
      if (req.method === 'GET' && path === '/_test/requests') return sendJson(res, 200, requests);
      if (req.method === 'GET' && path === '/_test/device-codes') return sendJson(res, 200, platform.deviceCodes());
      if (req.method === 'POST' && path === '/_test/revoke') {
        controls.revokeRefreshTokens(typeof input.username === 'string' ? input.username : undefined);
        return sendJson(res, 200, { revoked: input.username ?? 'everyone' });
      }
      if (req.method === 'POST' && path === '/_test/device-login') {
        await platform.completeDeviceLogin(String(input.userCode), String(input.username), input.decision === 'decline' ? 'decline' : 'approve');
        return sendJson(res, 200, { done: true });
      }
      if (req.method === 'POST' && path === '/_test/controls') {
        applyControlsPatch(controls, input);
        return sendJson(res, 200, controlValues(controls));
      }
      sendJson(res, 404, { error: `no test control at ${req.method} ${path}` });
    } catch (error) {
      sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  const server: Server = createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://placeholder').pathname;
    const entry: RecordedRequest = { method: req.method ?? 'GET', path, status: 0, at: Date.now() };
    const run = async () => {
      await delay(controls.latencyMs);
      if (path.startsWith('/_test/')) return handleTestControls(req, res, path);
      requests.push(entry);
      entry.status =
        path === '/devicelogin' || path === '/devicelogin/decide'
          ? await handleDeviceLogin(req, res, path)
          : await handleProtocol(req, res, path, entry);
    };
    run().catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) sendJson(res, 500, { error: 'test_platform_error', error_description: message });
      entry.status = 500;
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const deviceLoginUrl = `${url}/devicelogin`;
  const pinnedFingerprint256 = new X509Certificate(options.tls.cert).fingerprint256;

  const platform: IdentityPlatform = {
    url,
    deviceLoginUrl,
    users,
    tenants,
    signingKeys,
    requests,
    controls,
    deviceCodes: () =>
      [...authorizations.values()].map(({ userCode, clientId, scope, state, expiresAt }) => ({ userCode, clientId, scope, state, expiresAt })),
    completeDeviceLogin: (userCode, username, decision = 'approve') =>
      driveDeviceLogin(deviceLoginUrl, { ca: options.tls.ca, pinnedFingerprint256 }, userCode, username, decision),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
  return platform;
}

const NUMERIC_CONTROLS = ['tokenLifetimeSeconds', 'latencyMs', 'deviceCodeLifetimeSeconds', 'pollIntervalSeconds'] as const;

/** Applies a JSON patch from an out-of-process test: the numeric controls, plus `failNext` and `requireConsent` as calls. */
export function applyControlsPatch(controls: IdentityPlatformControls, patch: Record<string, unknown>): void {
  for (const name of NUMERIC_CONTROLS) {
    const value = patch[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
    controls[name] = value;
  }
  if (typeof patch.singleUseRefreshTokens === 'boolean') controls.singleUseRefreshTokens = patch.singleUseRefreshTokens;
  const failNext = patch.failNext as { kind?: FailureKind; count?: number; endpoint?: FailureEndpoint } | undefined;
  if (failNext?.kind) controls.failNext(failNext.kind, failNext.count, failNext.endpoint);
  if (typeof patch.requireConsent === 'string') controls.requireConsent(patch.requireConsent);
}

function controlValues(controls: IdentityPlatformControls) {
  const { tokenLifetimeSeconds, latencyMs, deviceCodeLifetimeSeconds, pollIntervalSeconds, singleUseRefreshTokens } = controls;
  return { tokenLifetimeSeconds, latencyMs, deviceCodeLifetimeSeconds, pollIntervalSeconds, singleUseRefreshTokens };
}
