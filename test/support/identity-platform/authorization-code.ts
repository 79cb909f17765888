// The authorization-code flow with PKCE as Entra ID v2 runs it for public clients: the /authorize page
// (account pick, Accept or Cancel, a browser session that lets a second request through without a click),
// the response sent back to a loopback redirect URI by query, fragment or form_post, and the
// `authorization_code` grant that redeems the code once, within its lifetime, for the verifier that
// matches the challenge.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorizePage, formPostPage, signInErrorPage } from './pages';
import { audienceForScopes, EntraError, errors, type DemoUser } from './protocol';

export type ResponseMode = 'query' | 'fragment' | 'form_post';
export type Prompt = 'login' | 'select_account' | 'consent' | 'none';

/** An issued code, without its secret value. */
export interface IssuedAuthorizationCode {
  clientId: string;
  username: string;
  redirectUri: string;
  scope: string;
  codeChallengeMethod: 'S256' | 'plain';
  expiresAt: number;
  redeemed: boolean;
}

export interface AuthorizationCodeDependencies {
  resolveTenant(segment: string): string | undefined;
  usersFor(tenantId: string | undefined): DemoUser[];
  findUser(username: string): DemoUser | undefined;
  appName(clientId: string): string;
  needsConsent(clientId: string): boolean;
  codeLifetimeSeconds(): number;
  issueTokens(user: DemoUser, clientId: string, scope: string, tenantId: string | undefined, extra: { nonce?: string }): Record<string, unknown>;
  readBody(req: IncomingMessage): Promise<string>;
}

interface AuthorizeRequest {
  context: string;
  tenantSegment: string;
  tenantId: string | undefined;
  clientId: string;
  redirectUri: string;
  responseMode: ResponseMode;
  scope: string;
  state?: string;
  nonce?: string;
  codeChallenge: string;
  codeChallengeMethod: 'S256' | 'plain';
  loginHint?: string;
  clientInfo: boolean;
  createdAt: number;
}

interface CodeGrant extends IssuedAuthorizationCode {
  codeChallenge: string;
  tenantId: string | undefined;
  nonce?: string;
}

const RESPONSE_MODES = new Set<string>(['query', 'fragment', 'form_post']);
const PROMPTS = new Set<string>(['login', 'select_account', 'consent', 'none']);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// RFC 7636: 43 to 128 characters of the unreserved set, for the verifier and so for a plain challenge.
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/;
const SESSION_COOKIE = 'ESTSAUTH';
/** How long a shown sign-in page stays usable; Entra's flow token lasts about as long. */
const CONTEXT_LIFETIME_MS = 15 * 60 * 1000;
const LOOPBACK_REDIRECT_HOSTS = new Set(['localhost', '127.0.0.1']);

const base64urlJson = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function pkceChallenge(verifier: string, method: 'S256' | 'plain'): string {
  return method === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
}

/**
 * The form a redirect URI is compared in. Entra ignores the port of `http://localhost` and
 * `http://127.0.0.1` redirect URIs for public clients (the app picks a free port at run time), and an
 * empty path is the root.
 */
function redirectUriKey(uri: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return undefined;
  }
  if (parsed.hash || parsed.username || parsed.password) return undefined;
  const loopback = parsed.protocol === 'http:' && LOOPBACK_REDIRECT_HOSTS.has(parsed.hostname);
  const host = loopback ? parsed.hostname : parsed.host;
  return `${parsed.protocol}//${host}${parsed.pathname || '/'}${parsed.search}`.toLowerCase();
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

function sendHtml(res: ServerResponse, status: number, html: string): number {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(html) });
  res.end(html);
  return status;
}

export function createAuthorizationCodeFlow(deps: AuthorizationCodeDependencies) {
  const pendingRequests = new Map<string, AuthorizeRequest>();
  const codes = new Map<string, CodeGrant>();
  /** Browser sessions: the accounts signed in in one browser, most recent first. */
  const sessions = new Map<string, string[]>();
  /** Extra registered redirect URIs by client id; every public client has the loopback root ones. */
  const registeredRedirectUris = new Map<string, Set<string>>();

  function isRegistered(clientId: string, redirectUri: string): boolean {
    const key = redirectUriKey(redirectUri);
    if (key === undefined) return false;
    if (key === 'http://localhost/' || key === 'http://127.0.0.1/') return true;
    return registeredRedirectUris.get(clientId.toLowerCase())?.has(key) ?? false;
  }

  function errorPage(res: ServerResponse, error: EntraError, correlationId: string): number {
    const { error_description: description } = error.body(correlationId);
    return sendHtml(res, error.status, signInErrorPage(description));
  }

  /** Sends the response back to the app the way `response_mode` asks. */
  function sendBack(res: ServerResponse, request: Pick<AuthorizeRequest, 'redirectUri' | 'responseMode' | 'state'>, params: Record<string, string>): number {
    const fields = { ...params, ...(request.state !== undefined ? { state: request.state } : {}) };
    if (request.responseMode === 'form_post') return sendHtml(res, 200, formPostPage(request.redirectUri, fields));
    const target = new URL(request.redirectUri);
    if (request.responseMode === 'fragment') target.hash = new URLSearchParams(fields).toString();
    else for (const [name, value] of Object.entries(fields)) target.searchParams.set(name, value);
    res.writeHead(302, { location: target.toString(), 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
    return 302;
  }

  function sessionAccounts(req: IncomingMessage, eligible: DemoUser[]): DemoUser[] {
    const session = sessions.get(cookieValue(req, SESSION_COOKIE) ?? '') ?? [];
    return session.flatMap((username) => eligible.filter((user) => user.username.toLowerCase() === username.toLowerCase()));
  }

  function rememberSignIn(req: IncomingMessage, res: ServerResponse, username: string): void {
    let id = cookieValue(req, SESSION_COOKIE);
    if (id === undefined || !sessions.has(id)) {
      id = randomBytes(24).toString('base64url');
      sessions.set(id, []);
    }
    const accounts = sessions.get(id)!.filter((account) => account.toLowerCase() !== username.toLowerCase());
    sessions.set(id, [username, ...accounts]);
    res.setHeader('set-cookie', `${SESSION_COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=None`);
  }

  /** The account is known and agreed: issue a code, unless the app still lacks consent. */
  function finish(res: ServerResponse, request: AuthorizeRequest, user: DemoUser, correlationId: string): number {
    if (deps.needsConsent(request.clientId)) {
      return sendBack(res, request, errors.consentRequiredOnAuthorize(request.clientId, deps.appName(request.clientId)).redirectParameters(correlationId));
    }
    const code = `1.A${randomBytes(64).toString('base64url')}`;
    codes.set(code, {
      clientId: request.clientId,
      username: user.username,
      redirectUri: request.redirectUri,
      scope: request.scope,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: request.codeChallengeMethod,
      tenantId: request.tenantId,
      nonce: request.nonce,
      expiresAt: Date.now() + deps.codeLifetimeSeconds() * 1000,
      redeemed: false,
    });
    const tid = request.tenantId ?? user.homeTenant;
    return sendBack(res, request, {
      code,
      ...(request.clientInfo ? { client_info: base64urlJson({ uid: user.oid, utid: tid }) } : {}),
      session_state: randomUUID(),
    });
  }

  function showPage(res: ServerResponse, request: AuthorizeRequest, eligible: DemoUser[], selected: string | undefined, status = 200, error?: string): number {
    return sendHtml(
      res,
      status,
      authorizePage({
        context: request.context,
        action: `/${request.tenantSegment}/login`,
        appName: deps.appName(request.clientId),
        clientId: request.clientId,
        resource: audienceForScopes(request.scope),
        redirectOrigin: new URL(request.redirectUri).origin,
        users: eligible,
        selected,
        error,
      }),
    );
  }

  /** GET /{tenant}/oauth2/v2.0/authorize */
  function handleAuthorize(req: IncomingMessage, res: ServerResponse, tenantSegment: string, query: URLSearchParams, correlationId: string): number {
    // Until the client and its redirect URI are known good, there is nowhere safe to send an error.
    let tenantId: string | undefined;
    try {
      tenantId = deps.resolveTenant(tenantSegment);
    } catch (error) {
      if (error instanceof EntraError) return errorPage(res, error, correlationId);
      throw error;
    }
    const clientId = query.get('client_id');
    if (!clientId) return errorPage(res, errors.missingQueryParameter('client_id'), correlationId);
    if (!GUID.test(clientId)) return errorPage(res, errors.unknownClient(clientId), correlationId);
    const redirectUri = query.get('redirect_uri');
    if (!redirectUri) return errorPage(res, errors.missingQueryParameter('redirect_uri'), correlationId);
    if (!isRegistered(clientId, redirectUri)) return errorPage(res, errors.redirectUriNotRegistered(redirectUri, clientId), correlationId);

    const state = query.get('state') ?? undefined;
    const requestedMode = query.get('response_mode') ?? 'query';
    const responseMode = (RESPONSE_MODES.has(requestedMode) ? requestedMode : 'query') as ResponseMode;
    const back = (error: EntraError) => sendBack(res, { redirectUri, responseMode, state }, error.redirectParameters(correlationId));
    if (!RESPONSE_MODES.has(requestedMode)) return back(errors.invalidResponseMode(requestedMode));
    const responseType = query.get('response_type');
    if (!responseType) return back(errors.missingQueryParameter('response_type'));
    if (responseType !== 'code') return back(errors.unsupportedResponseType(responseType));
    const scope = query.get('scope');
    if (!scope) return back(errors.missingQueryParameter('scope'));
    try {
      audienceForScopes(scope);
    } catch (error) {
      if (error instanceof EntraError) return back(error);
      throw error;
    }
    // Entra requires PKCE only for single-page apps; the double requires it of every client, so a client
    // that forgets it fails here instead of working against a laxer production tenant.
    const codeChallenge = query.get('code_challenge');
    if (!codeChallenge) return back(errors.missingQueryParameter('code_challenge'));
    // Without a method the challenge is the verifier itself (RFC 7636 and Entra's documentation).
    const method = query.get('code_challenge_method') ?? 'plain';
    if (method !== 'S256' && method !== 'plain') return back(errors.invalidCodeChallengeMethod(method));
    if (!PKCE_VALUE.test(codeChallenge)) return back(errors.invalidCodeChallengeSize());
    const prompt = query.get('prompt') ?? undefined;
    if (prompt !== undefined && !PROMPTS.has(prompt)) return back(errors.invalidPrompt(prompt));

    const request: AuthorizeRequest = {
      context: randomBytes(24).toString('base64url'),
      tenantSegment,
      tenantId,
      clientId,
      redirectUri,
      responseMode,
      scope,
      state,
      nonce: query.get('nonce') ?? undefined,
      codeChallenge,
      codeChallengeMethod: method,
      loginHint: query.get('login_hint') ?? undefined,
      clientInfo: query.get('client_info') === '1',
      createdAt: Date.now(),
    };
    const eligible = deps.usersFor(tenantId);
    const signedIn = sessionAccounts(req, eligible);
    const hint = request.loginHint?.toLowerCase();
    if (prompt === undefined || prompt === 'none') {
      // Single sign-on: one account of this browser's session fits, so no page is shown at all.
      const candidates = hint === undefined ? signedIn : signedIn.filter((user) => user.username.toLowerCase() === hint);
      if (candidates.length === 1) return finish(res, request, candidates[0]!, correlationId);
      if (prompt === 'none') return back(candidates.length === 0 ? errors.loginRequired() : errors.selectAccountRequired());
    }
    for (const [context, pending] of pendingRequests) {
      if (Date.now() - pending.createdAt > CONTEXT_LIFETIME_MS) pendingRequests.delete(context);
    }
    pendingRequests.set(request.context, request);
    return showPage(res, request, eligible, request.loginHint ?? signedIn[0]?.username);
  }

  /** POST /{tenant}/login: the choice made on the authorize page. */
  async function handleLogin(req: IncomingMessage, res: ServerResponse, correlationId: string): Promise<number> {
    const form = new URLSearchParams(await deps.readBody(req));
    const request = pendingRequests.get(form.get('ctx') ?? '');
    if (!request || Date.now() - request.createdAt > CONTEXT_LIFETIME_MS) {
      return sendHtml(res, 400, signInErrorPage('This sign-in request has expired or was already completed. Go back to the application and sign in again.'));
    }
    const eligible = deps.usersFor(request.tenantId);
    const decision = form.get('decision');
    if (decision === 'cancel') {
      pendingRequests.delete(request.context);
      return sendBack(res, request, errors.userCancelled().redirectParameters(correlationId));
    }
    const user = eligible.find((candidate) => candidate.username.toLowerCase() === (form.get('username') ?? '').toLowerCase());
    if (decision !== 'accept' || !user) {
      return showPage(res, request, eligible, form.get('username') ?? undefined, 400, 'Pick an account, then choose Accept or Cancel.');
    }
    pendingRequests.delete(request.context);
    rememberSignIn(req, res, user.username);
    return finish(res, request, user, correlationId);
  }

  /** `grant_type=authorization_code` at the token endpoint. */
  function redeem(form: URLSearchParams, clientId: string, tenantId: string | undefined): Record<string, unknown> {
    const value = form.get('code');
    if (!value) throw errors.missingParameter('code');
    const grant = codes.get(value);
    if (!grant) throw errors.authorizationCodeMalformed();
    if (grant.clientId.toLowerCase() !== clientId.toLowerCase()) throw errors.clientMismatch();
    if (grant.redeemed) throw errors.authorizationCodeRedeemed();
    if (Date.now() >= grant.expiresAt) throw errors.authorizationCodeExpired();
    const redirectUri = form.get('redirect_uri');
    if (!redirectUri) throw errors.missingParameter('redirect_uri');
    if (redirectUri !== grant.redirectUri) throw errors.redirectUriDiffers(redirectUri, grant.redirectUri);
    const verifier = form.get('code_verifier');
    if (!verifier) throw errors.codeVerifierMissing();
    if (!PKCE_VALUE.test(verifier) || pkceChallenge(verifier, grant.codeChallengeMethod) !== grant.codeChallenge) throw errors.codeVerifierMismatch();
    const user = deps.findUser(grant.username);
    if (!user) throw errors.authorizationCodeMalformed();
    grant.redeemed = true;
    return deps.issueTokens(user, grant.clientId, form.get('scope') ?? grant.scope, grant.tenantId ?? tenantId, { nonce: grant.nonce });
  }

  return {
    handleAuthorize,
    handleLogin,
    redeem,
    registerRedirectUri(clientId: string, redirectUri: string): void {
      const key = redirectUriKey(redirectUri);
      if (key === undefined) throw new Error(`"${redirectUri}" cannot be a redirect URI`);
      const set = registeredRedirectUris.get(clientId.toLowerCase()) ?? new Set<string>();
      set.add(key);
      registeredRedirectUris.set(clientId.toLowerCase(), set);
    },
    /** Forgets every browser session, as if each browser had closed: the next /authorize shows the page. */
    signOutEverywhere(): void {
      sessions.clear();
    },
    issuedCodes(): IssuedAuthorizationCode[] {
      return [...codes.values()].map(({ clientId, username, redirectUri, scope, codeChallengeMethod, expiresAt, redeemed }) => ({
        clientId,
        username,
        redirectUri,
        scope,
        codeChallengeMethod,
        expiresAt,
        redeemed,
      }));
    },
  };
}

export type AuthorizationCodeFlow = ReturnType<typeof createAuthorizationCodeFlow>;
