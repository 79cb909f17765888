// A Microsoft identity platform (Entra ID, v2 endpoints) on loopback HTTPS that real @azure/msal-node (and
// the real Azure CLI) talk to unchanged: OpenID discovery, the device-code grant with a device-login page,
// the authorization-code grant with PKCE and a sign-in page, refresh tokens, RS256 tokens signed with keys
// the API server double trusts, and controls to make it slow, fail, revoke or refuse a flow.
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createSigningKey, jwks, signJwt, type SigningKey } from '../jwt';
import { createAuthorizationCodeFlow, type IssuedAuthorizationCode } from './authorization-code';
import { createBrowserProfile, driveAuthorize, type AuthorizeOptions, type AuthorizeOutcome, type BrowserProfile } from './authorize-driver';
import { driveDeviceLogin } from './device-login-driver';
import { decidedPage, enterCodePage, pickAccountPage } from './pages';
import {
  audienceForScopes,
  DEFAULT_APPLICATION_NAMES,
  DEFAULT_DEVICE_CODE_BLOCKED_TENANTS,
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
export { createBrowserProfile, type AuthorizeOptions, type AuthorizeOutcome, type BrowserProfile } from './authorize-driver';
export type { IssuedAuthorizationCode } from './authorization-code';

export interface IdentityPlatformOptions {
  /** Server key and certificate; `ca`, when given, is what the device-login driver verifies them with. */
  tls: { key: string; cert: string; ca?: string };
  /** 0 or undefined picks a free port. */
  port?: number;
  /**
   * Loopback address to serve on; default 127.0.0.1. Host tests use 127.0.0.2: code-server rewrites every
   * 127.0.0.1 and localhost URL an extension opens into its own port proxy, dropping path and query.
   */
  host?: string;
  /** Known tenant ids; any other tenant in a path gets AADSTS90002 (discovery answers 400 too). */
  tenants?: string[];
  /** Domain names that stand for a known tenant id. */
  tenantDomains?: Record<string, string>;
  users?: DemoUser[];
  /** Application names the sign-in pages show, by client id. */
  applicationNames?: Record<string, string>;
  tokenLifetimeSeconds?: number;
  /** Tenants whose Conditional Access blocks device code; default Northwind with the default tenants, else none. */
  deviceCodeBlockedTenants?: string[];
}

export type FailureKind = '5xx' | 'reset' | 'malformed' | 'invalid_grant' | 'temporarily_unavailable';
export type FailureEndpoint = 'token' | 'devicecode' | 'any';

export interface RecordedRequest {
  method: string;
  path: string;
  grantType?: string;
  /** Names (never values) of the query parameters of /authorize and of the form fields of protocol POSTs, in order. */
  parameters?: string[];
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
  /**
   * Device-code approvals for this client then end in invalid_grant AADSTS65001 (suberror consent_required),
   * and /authorize sends it back `consent_required` AADSTS65001.
   */
  requireConsent(clientId: string): void;
  /** How long an authorization code can be redeemed; Entra's last about ten minutes. */
  authorizationCodeLifetimeSeconds: number;
  /**
   * Conditional Access on authentication flows (transfer method deviceCodeFlow) for this tenant: the
   * device-login page still works, but the token request after approval is invalid_grant AADSTS53003.
   */
  blockDeviceCode(tenantId: string): void;
  allowDeviceCode(tenantId: string): void;
  /** Registers another redirect URI for a client; every client has http://localhost and http://127.0.0.1 (any port). */
  registerRedirectUri(clientId: string, redirectUri: string): void;
  /** Forgets every browser's sign-in session, so the next /authorize shows the account page again. */
  endBrowserSessions(): void;
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
  /** The address it serves on, e.g. 127.0.0.2. */
  readonly host: string;
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
  /**
   * Opens an /authorize URL like a browser does (with one browser profile shared between calls unless
   * `options.browser` is given), answers the sign-in page if it is shown, and delivers the response to the
   * redirect URI: follows the 302, or POSTs the auto-submitting form_post form.
   */
  completeAuthorization(authorizeUrl: string, options?: AuthorizeOptions): Promise<AuthorizeOutcome>;
  /** Authorization codes issued so far, without their secret values, newest last. */
  authorizationCodes(): IssuedAuthorizationCode[];
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

type EndpointKind = 'discovery' | 'discovery-v1' | 'keys' | 'instance' | 'devicecode' | 'token';

const MAX_BODY_BYTES = 1 << 20;
const DEVICE_CODE_GRANTS = new Set(['device_code', 'urn:ietf:params:oauth:grant-type:device_code']);

/** 127.0.0.0/8 and ::1, also as IPv4-mapped addresses: the only clients the test controls answer. */
export function isLoopbackAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

function assertLoopbackHost(host: string): void {
  if (!isLoopbackAddress(host)) throw new Error(`the identity platform serves loopback addresses only, not ${host}`);
}

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
  const deviceCodeBlocked = new Set<string>(
    (options.deviceCodeBlockedTenants ?? (options.tenants ? [] : DEFAULT_DEVICE_CODE_BLOCKED_TENANTS)).map((tenant) => tenant.toLowerCase()),
  );
  const host = options.host ?? '127.0.0.1';
  assertLoopbackHost(host);
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
    authorizationCodeLifetimeSeconds: 600,
    blockDeviceCode(tenantId) {
      deviceCodeBlocked.add(tenantId.toLowerCase());
    },
    allowDeviceCode(tenantId) {
      deviceCodeBlocked.delete(tenantId.toLowerCase());
    },
    registerRedirectUri(clientId, redirectUri) {
      authorizationCode.registerRedirectUri(clientId, redirectUri);
    },
    endBrowserSessions() {
      authorizationCode.signOutEverywhere();
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

  /**
   * The v1 document at {tenant}/.well-known/openid-configuration. The Azure CLI reads it to turn a tenant's
   * domain name into its id (the issuer's path). Entra's v1 issuer is https://sts.windows.net/{tid}/; this
   * one keeps the double's own origin, so no public host name appears even as data.
   */
  function openIdConfigurationV1(segment: string) {
    const tenantId = resolveTenant(segment);
    const base = `${url}/${segment}`;
    return {
      token_endpoint: `${base}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${url}/common/discovery/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
      scopes_supported: ['openid'],
      issuer: `${url}/${tenantId ?? '{tenantid}'}/`,
      authorization_endpoint: `${base}/oauth2/authorize`,
      device_authorization_endpoint: `${base}/oauth2/devicecode`,
      end_session_endpoint: `${base}/oauth2/logout`,
      tenant_region_scope: 'WW',
      cloud_instance_name: new URL(url).host,
    };
  }

  function issueTokens(user: DemoUser, clientId: string, scope: string, tenantId: string | undefined, extra: { nonce?: string } = {}) {
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
        ...(extra.nonce !== undefined ? { nonce: extra.nonce } : {}),
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
        // The policy is the resource tenant's: for organizations that is the approving user's home tenant.
        if (deviceCodeBlocked.has((authorization.tenantId ?? user.homeTenant).toLowerCase())) throw errors.deviceCodeBlocked();
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
      else if (req.method === 'GET' && segments.length === 3 && segments[1] === '.well-known' && segments[2] === 'openid-configuration') endpoint = 'discovery-v1';
      else if (req.method === 'GET' && segments.length === 4 && segments[1] === 'discovery' && segments[2] === 'v2.0' && segments[3] === 'keys') endpoint = 'keys';
      else if (req.method === 'POST' && segments.length === 4 && segments[1] === 'oauth2' && segments[2] === 'v2.0' && segments[3] === 'devicecode') endpoint = 'devicecode';
      else if (req.method === 'POST' && segments.length === 4 && segments[1] === 'oauth2' && segments[2] === 'v2.0' && segments[3] === 'token') endpoint = 'token';
      if (!endpoint) throw errors.notFound(path);
      const tenantSegment = segments[0]!;
      const form = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : new URLSearchParams();
      if (endpoint === 'token') entry.grantType = form.get('grant_type') ?? undefined;
      if (req.method === 'POST') entry.parameters = [...form.keys()];

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
        case 'discovery-v1':
          return respond(200, openIdConfigurationV1(tenantSegment));
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
          if (grantType === 'authorization_code') return respond(200, authorizationCode.redeem(form, clientId, tenantId));
          throw errors.unsupportedGrantType(grantType);
        }
      }
    } catch (error) {
      if (error instanceof EntraError) return respond(error.status, error.body(correlationId));
      throw error;
    }
  }

  async function handleTestControls(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (!isLoopbackAddress(req.socket.remoteAddress ?? '')) {
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
      if (req.method === 'POST' && path === '/_test/authorize') {
        if (typeof input.url !== 'string') throw new Error('"url" must be the /authorize URL to complete');
        const outcome = await platform.completeAuthorization(input.url, {
          username: typeof input.username === 'string' ? input.username : undefined,
          decision: input.decision === 'cancel' ? 'cancel' : 'accept',
        });
        // The code stays out of the answer: it went to the redirect URI, where the app under test takes it.
        const { code, ...params } = outcome.params;
        return sendJson(res, 200, { ...outcome, params: { ...params, ...(code ? { code: '(delivered)' } : {}) } });
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

  const authorizationCode = createAuthorizationCodeFlow({
    resolveTenant,
    usersFor,
    findUser,
    appName,
    needsConsent: (clientId) => consentRequired.has(clientId.toLowerCase()),
    codeLifetimeSeconds: () => controls.authorizationCodeLifetimeSeconds,
    issueTokens,
    readBody,
  });

  /** The browser-facing endpoints of the code flow answer with pages and redirects, not JSON. */
  function authorizeEndpoint(req: IncomingMessage, path: string): 'authorize' | 'login' | undefined {
    const segments = path.split('/').filter(Boolean);
    if (req.method === 'GET' && segments.length === 4 && segments[1] === 'oauth2' && segments[2] === 'v2.0' && segments[3] === 'authorize') return 'authorize';
    if (req.method === 'POST' && segments.length === 2 && segments[1] === 'login') return 'login';
    return undefined;
  }

  const server: Server = createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    const requestUrl = new URL(req.url ?? '/', 'https://placeholder');
    const path = requestUrl.pathname;
    const entry: RecordedRequest = { method: req.method ?? 'GET', path, status: 0, at: Date.now() };
    const run = async () => {
      await delay(controls.latencyMs);
      if (path.startsWith('/_test/')) return handleTestControls(req, res, path);
      requests.push(entry);
      const correlationId = String(req.headers['client-request-id'] ?? randomUUID());
      const browserFacing = authorizeEndpoint(req, path);
      if (browserFacing === 'authorize') entry.parameters = [...requestUrl.searchParams.keys()];
      entry.status =
        path === '/devicelogin' || path === '/devicelogin/decide'
          ? await handleDeviceLogin(req, res, path)
          : browserFacing === 'authorize'
            ? authorizationCode.handleAuthorize(req, res, path.split('/')[1]!, requestUrl.searchParams, correlationId)
            : browserFacing === 'login'
              ? await authorizationCode.handleLogin(req, res, correlationId)
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
    server.listen(options.port ?? 0, host, () => resolve());
  });
  url = `https://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
  const deviceLoginUrl = `${url}/devicelogin`;
  const pinnedFingerprint256 = new X509Certificate(options.tls.cert).fingerprint256;
  const trust = { ca: options.tls.ca, pinnedFingerprint256 };
  const defaultBrowser: BrowserProfile = createBrowserProfile();

  const platform: IdentityPlatform = {
    url,
    host,
    deviceLoginUrl,
    users,
    tenants,
    signingKeys,
    requests,
    controls,
    deviceCodes: () =>
      [...authorizations.values()].map(({ userCode, clientId, scope, state, expiresAt }) => ({ userCode, clientId, scope, state, expiresAt })),
    completeDeviceLogin: (userCode, username, decision = 'approve') => driveDeviceLogin(deviceLoginUrl, trust, userCode, username, decision),
    completeAuthorization: (authorizeUrl, authorizeOptions = {}) => {
      if (!authorizeUrl.startsWith(`${url}/`)) return Promise.reject(new Error(`${authorizeUrl} is not an URL of this identity platform (${url})`));
      return driveAuthorize(authorizeUrl, trust, { ...authorizeOptions, browser: authorizeOptions.browser ?? defaultBrowser });
    },
    authorizationCodes: () => authorizationCode.issuedCodes(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
  return platform;
}

const NUMERIC_CONTROLS = ['tokenLifetimeSeconds', 'latencyMs', 'deviceCodeLifetimeSeconds', 'pollIntervalSeconds', 'authorizationCodeLifetimeSeconds'] as const;

const tenantList = (value: unknown): string[] => (typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

/**
 * Applies a JSON patch from an out-of-process test: the numeric controls, plus as calls `failNext`,
 * `requireConsent`, `blockDeviceCode` / `allowDeviceCode` (a tenant id or a list), `registerRedirectUri`
 * ({ clientId, redirectUri }) and `endBrowserSessions: true`.
 */
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
  for (const tenant of tenantList(patch.blockDeviceCode)) controls.blockDeviceCode(tenant);
  for (const tenant of tenantList(patch.allowDeviceCode)) controls.allowDeviceCode(tenant);
  const redirect = patch.registerRedirectUri as { clientId?: unknown; redirectUri?: unknown } | undefined;
  if (redirect !== undefined) {
    if (typeof redirect.clientId !== 'string' || typeof redirect.redirectUri !== 'string') throw new Error('registerRedirectUri needs { clientId, redirectUri }');
    controls.registerRedirectUri(redirect.clientId, redirect.redirectUri);
  }
  if (patch.endBrowserSessions === true) controls.endBrowserSessions();
}

function controlValues(controls: IdentityPlatformControls) {
  const { tokenLifetimeSeconds, latencyMs, deviceCodeLifetimeSeconds, pollIntervalSeconds, singleUseRefreshTokens, authorizationCodeLifetimeSeconds } = controls;
  return { tokenLifetimeSeconds, latencyMs, deviceCodeLifetimeSeconds, pollIntervalSeconds, singleUseRefreshTokens, authorizationCodeLifetimeSeconds };
}
