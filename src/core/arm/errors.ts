// Every way an ARM call can end badly, as one error whose message says what happened and what to do about
// it: which role to ask for and on what scope, which tenant wants a new sign-in, how long to wait. Messages
// are built from names, ids and ARM's codes only; a token or a credential never reaches one.
import { isUntrustedCertificate } from '../https';
import { redactSecrets } from '../redact';

export type ArmErrorKind =
  /** Signed in, but the account sees no subscription in the tenant. */
  | 'noSubscriptions'
  /** 403: the account lacks a role; `requiredRole` and `scope` say which and where. */
  | 'authorizationFailed'
  /** 429 that outlasted the retries, or asked for a longer wait than the client will sit through. */
  | 'throttled'
  /** The tenant wants a new sign-in that satisfies `claims` (Conditional Access, MFA step-up, revoked session). */
  | 'claimsChallenge'
  /** 401 for any other reason, or the sign-in layer could not supply a token: sign in again. */
  | 'unauthenticated'
  /** The subscription lives in another tenant (`tenantId`) and no token for that tenant could be had. */
  | 'wrongTenant'
  | 'notFound'
  /** ARM refused the request as such (400, 409): its own message says why. */
  | 'badRequest'
  /** 5xx that outlasted the retries. */
  | 'platformError'
  /** No answer: connection refused or reset, timeout, DNS, an untrusted certificate. */
  | 'unreachable'
  /** An answer that is not what ARM sends: not JSON, no kubeconfig, a link to another host. */
  | 'badResponse'
  | 'cancelled';

export interface ArmErrorDetails {
  /** ARM's error code (`AuthorizationFailed`, `ResourceNotFound`, …), the network's (`ECONNREFUSED`), or `HTTP <status>`. */
  code?: string;
  status?: number;
  retryable?: boolean;
  retryAfterMs?: number;
  /** The tenant the error is about: the one to sign in to, or the one that has no subscriptions. */
  tenantId?: string;
  /** The decoded claims request of a claims challenge, to pass to the sign-in layer as is. */
  claims?: string;
  /** The ARM scope a missing role must be granted on. */
  scope?: string;
  /** The ARM action that was refused. */
  action?: string;
  requiredRole?: string;
  /** `x-ms-correlation-request-id`, which Azure support asks for. */
  correlationId?: string;
  cause?: unknown;
}

const retryableKinds: ReadonlySet<ArmErrorKind> = new Set(['throttled', 'platformError', 'unreachable']);

export class ArmError extends Error {
  readonly kind: ArmErrorKind;
  readonly retryable: boolean;
  readonly code?: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly tenantId?: string;
  readonly claims?: string;
  readonly scope?: string;
  readonly action?: string;
  readonly requiredRole?: string;
  readonly correlationId?: string;

  constructor(kind: ArmErrorKind, message: string, details: ArmErrorDetails = {}) {
    // A second line of defence: nothing here is built from a token, but ARM's own messages are passed on.
    super(redactSecrets(message), details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'ArmError';
    this.kind = kind;
    this.retryable = details.retryable ?? retryableKinds.has(kind);
    if (details.code !== undefined) this.code = details.code;
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.tenantId !== undefined) this.tenantId = details.tenantId;
    if (details.claims !== undefined) this.claims = details.claims;
    if (details.scope !== undefined) this.scope = details.scope;
    if (details.action !== undefined) this.action = details.action;
    if (details.requiredRole !== undefined) this.requiredRole = details.requiredRole;
    if (details.correlationId !== undefined) this.correlationId = details.correlationId;
  }
}

/** What a request was for, in words a person recognises, and where it went. */
export interface RequestContext {
  /** Completes "Could not …": `list the AKS clusters of subscription Dev (…)`. */
  what: string;
  host: string;
  /** The tenant the token was asked for; undefined is the account's home tenant. */
  tenantId?: string;
}

export interface ArmHttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const AKS_CLUSTER_USER_ROLE = 'Azure Kubernetes Service Cluster User Role';
export const AKS_CLUSTER_ADMIN_ROLE = 'Azure Kubernetes Service Cluster Admin Role';
export const READER_ROLE = 'Reader';

/** The built-in role that grants an action, for the message that tells a person what to ask for. */
export function roleFor(action: string): string | undefined {
  const lower = action.toLowerCase();
  if (lower === 'microsoft.containerservice/managedclusters/listclusterusercredential/action') return AKS_CLUSTER_USER_ROLE;
  if (lower === 'microsoft.containerservice/managedclusters/listclusteradmincredential/action') return AKS_CLUSTER_ADMIN_ROLE;
  if (lower.endsWith('/read')) return READER_ROLE;
  return undefined;
}

export function cancelledError(): ArmError {
  return new ArmError('cancelled', 'Cancelled. Nothing was changed.', { code: 'cancelled' });
}

export function noSubscriptionsError(tenant: { tenantId: string; displayName?: string }): ArmError {
  return new ArmError(
    'noSubscriptions',
    `You are signed in, but your account sees no Azure subscription in tenant ${tenantName(tenant)}. Ask an owner of a subscription there for the Reader role on it (or the ${AKS_CLUSTER_USER_ROLE} on a cluster), or pick another tenant.`,
    { code: 'NoSubscriptions', tenantId: tenant.tenantId },
  );
}

export function tenantName(tenant: { tenantId: string; displayName?: string }): string {
  return tenant.displayName && tenant.displayName !== tenant.tenantId ? `${tenant.displayName} (${tenant.tenantId})` : tenant.tenantId;
}

interface ArmErrorBody {
  code?: string;
  message?: string;
}

/** ARM's `{error: {code, message}}`; some resource providers answer with `{code, message}` at the top. */
export function armErrorBody(text: string): ArmErrorBody {
  try {
    const parsed = JSON.parse(text) as { error?: ArmErrorBody; code?: unknown; message?: unknown };
    const inner = parsed && typeof parsed === 'object' && parsed.error && typeof parsed.error === 'object' ? parsed.error : parsed;
    return {
      ...(typeof inner.code === 'string' ? { code: inner.code } : {}),
      ...(typeof inner.message === 'string' ? { message: inner.message } : {}),
    };
  } catch {
    return {};
  }
}

/** The parameters of a `WWW-Authenticate: Bearer k="v", …` challenge, names lower-cased. */
export function bearerChallenge(header: string | undefined): Map<string, string> {
  const parameters = new Map<string, string>();
  if (!header) return parameters;
  const bearer = /(?:^|,\s*)Bearer\s+(.*)$/i.exec(header);
  const text = bearer?.[1] ?? header;
  for (const match of text.matchAll(/([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    parameters.set((match[1] as string).toLowerCase(), (match[2] ?? match[3] ?? '').replace(/\\(.)/g, '$1'));
  }
  return parameters;
}

/** The claims request of a challenge, decoded from base64 (standard or URL-safe) to the JSON MSAL expects. */
export function claimsFromChallenge(header: string | undefined): string | undefined {
  const encoded = bearerChallenge(header).get('claims');
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  try {
    JSON.parse(decoded);
    return decoded;
  } catch {
    return undefined;
  }
}

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/**
 * The tenant ARM says a subscription belongs to, from an InvalidAuthenticationTokenTenant answer: the
 * challenge's `authorization_uri` ends in it, and the message names it too. Only the id is taken; the URI
 * itself is never followed.
 */
export function requiredTenant(answer: ArmHttpAnswer): string | undefined {
  const uri = bearerChallenge(answer.headers['www-authenticate']).get('authorization_uri') ?? '';
  const fromUri = /\/([0-9a-f-]{36})\/?$/i.exec(uri)?.[1];
  if (fromUri && GUID.test(fromUri)) return fromUri.toLowerCase();
  const message = armErrorBody(answer.body).message ?? '';
  const fromMessage = /must match the tenant '[^']*?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/i.exec(message)?.[1];
  return fromMessage?.toLowerCase();
}

export function isWrongTenant(answer: ArmHttpAnswer): boolean {
  if (answer.status !== 401) return false;
  const { code, message } = armErrorBody(answer.body);
  if (code === 'InvalidAuthenticationTokenTenant') return true;
  const description = bearerChallenge(answer.headers['www-authenticate']).get('error_description') ?? message ?? '';
  return /wrong issuer/i.test(description);
}

/**
 * `Retry-After` as milliseconds from `now`: delta seconds or an HTTP date, as RFC 9110 allows. Undefined when
 * absent or unreadable; a date in the past is 0.
 */
export function retryAfterMs(headers: Record<string, string>, now = Date.now()): number | undefined {
  const value = headers['retry-after']?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Date.parse reads "-3" as a year; an HTTP date always names its weekday and month.
  if (!/[a-z]/i.test(value)) return undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export function describeWait(ms: number): string {
  if (ms < 1000) return 'a moment';
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  return `${Math.ceil(seconds / 60)} min`;
}

/** The error for an ARM answer that is not a success, once retrying is over. */
export function errorFromAnswer(answer: ArmHttpAnswer, context: RequestContext, details: { retryAfterMs?: number; attempts?: number } = {}): ArmError {
  const { status } = answer;
  const body = armErrorBody(answer.body);
  const code = body.code ?? `HTTP ${status}`;
  const correlationId = answer.headers['x-ms-correlation-request-id'];
  const base = { code, status, ...(correlationId ? { correlationId } : {}) };
  const armSays = body.message ? ` Azure said: ${body.message}` : '';

  if (status === 401) {
    const challenge = bearerChallenge(answer.headers['www-authenticate']);
    const claims = claimsFromChallenge(answer.headers['www-authenticate']);
    if (claims !== undefined) {
      const tenant = context.tenantId ? `tenant ${context.tenantId}` : 'your home tenant';
      return new ArmError(
        'claimsChallenge',
        `Could not ${context.what}: ${tenant} asks you to sign in again (${challenge.get('error') ?? 'insufficient_claims'}), for example for multi-factor authentication or because a policy changed. Sign in to Azure again for that tenant.`,
        { ...base, claims, ...(context.tenantId ? { tenantId: context.tenantId } : {}) },
      );
    }
    if (isWrongTenant(answer)) {
      const tenantId = requiredTenant(answer);
      return new ArmError(
        'wrongTenant',
        `Could not ${context.what}: it belongs to tenant ${tenantId ?? '(unnamed)'}, not to the tenant you signed in to (${code}). Sign in to Azure for tenant ${tenantId ?? 'that owns the subscription'}.`,
        { ...base, ...(tenantId ? { tenantId } : {}) },
      );
    }
    return new ArmError(
      'unauthenticated',
      `Could not ${context.what}: Azure Resource Manager did not accept your sign-in (${code}). Sign in to Azure again.`,
      { ...base, ...(context.tenantId ? { tenantId: context.tenantId } : {}) },
    );
  }

  if (status === 403) {
    const message = body.message ?? '';
    const action = /perform action '([^']+)'/i.exec(message)?.[1];
    const scope = /over scope '([^']+)'/i.exec(message)?.[1];
    const who = /The client '([^']+)'/i.exec(message)?.[1];
    const requiredRole = action ? roleFor(action) : undefined;
    if (code === 'AuthorizationFailed' || action) {
      const account = who ? `${who} has` : 'Your account has';
      const ask = requiredRole
        ? `Ask an owner of ${scope ?? 'the resource'} to assign you the ${requiredRole}${requiredRole === READER_ROLE ? '' : ' (Reader alone lets you see a cluster, not connect to it)'}.`
        : `Ask an owner of ${scope ?? 'the resource'} for a role that allows ${action ?? 'it'}.`;
      return new ArmError(
        'authorizationFailed',
        `Could not ${context.what}: ${account} no permission for ${action ?? 'this'} on ${scope ?? 'this resource'}. ${ask} If it was granted just now, sign in to Azure again to refresh your access.`,
        { ...base, ...(action ? { action } : {}), ...(scope ? { scope } : {}), ...(requiredRole ? { requiredRole } : {}) },
      );
    }
    return new ArmError('authorizationFailed', `Could not ${context.what}: Azure refused it (${code}).${armSays}`, base);
  }

  if (status === 404) {
    return new ArmError('notFound', `Could not ${context.what}: it was not found (${code}); it may have been deleted, moved or renamed. Refresh the list.`, base);
  }

  if (status === 429) {
    const wait = details.retryAfterMs;
    const retried = details.attempts && details.attempts > 1 ? ` after ${details.attempts} attempts` : '';
    return new ArmError(
      'throttled',
      `Could not ${context.what}: Azure Resource Manager is limiting requests from your account (${code})${retried}. Wait ${wait !== undefined ? describeWait(wait) : 'a minute'} and try again.`,
      { ...base, ...(wait !== undefined ? { retryAfterMs: wait } : {}) },
    );
  }

  if (status >= 500) {
    const retried = details.attempts && details.attempts > 1 ? `, also after ${details.attempts - 1} retries` : '';
    return new ArmError(
      'platformError',
      `Could not ${context.what}: Azure Resource Manager at ${context.host} had a problem on its side (${code === `HTTP ${status}` ? code : `${code}, HTTP ${status}`}${retried}). Nothing needs to change on yours; try again ${details.retryAfterMs !== undefined ? `in ${describeWait(details.retryAfterMs)}` : 'in a minute'}.`,
      { ...base, ...(details.retryAfterMs !== undefined ? { retryAfterMs: details.retryAfterMs } : {}) },
    );
  }

  return new ArmError('badRequest', `Could not ${context.what}: Azure refused the request (${code}).${armSays}`, base);
}

export { isUntrustedCertificate };

/** The error for a request that got no usable answer at the network level. */
export function unreachableError(code: string, context: RequestContext, attempts: number): ArmError {
  if (isUntrustedCertificate(code)) {
    return new ArmError(
      'unreachable',
      `Could not ${context.what}: Azure Resource Manager at ${context.host} presented a certificate this machine does not trust (${code}). If a proxy or firewall inspects HTTPS, add its CA to the system certificate store and keep the setting http.systemCertificates on.`,
      { code, retryable: false },
    );
  }
  const cause =
    code === 'ETIMEDOUT'
      ? 'it did not answer in time'
      : code === 'ECONNREFUSED'
        ? 'the connection was refused'
        : code === 'ECONNRESET'
          ? 'the connection was reset'
          : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? 'its name did not resolve'
            : code;
  const retried = attempts > 1 ? `, ${attempts} attempts` : '';
  return new ArmError(
    'unreachable',
    `Could not ${context.what}: cannot reach Azure Resource Manager at ${context.host} (${cause}${retried}). Check the network connection or proxy, then try again.`,
    { code },
  );
}
