// Every way a sign-in or refresh can end badly, as one error type whose message tells a person what happened
// and what to do next. MSAL's own messages are links to a code table, so they are never shown.
import { isUntrustedCertificate } from '../https';
import { redactSecrets } from '../redact';
import type { Remedy } from '../remedy';
import type { TransportFailure } from './network';
import type { AuthErrorKind } from './types';

export type { AuthErrorKind } from './types';

const retryableKinds: ReadonlySet<AuthErrorKind> = new Set(['unreachable', 'platformError']);

const remedies: Record<AuthErrorKind, Exclude<Remedy['kind'], 'fixFile'>> = {
  declined: 'startAgain',
  codeExpired: 'startAgain',
  cancelled: 'startAgain',
  blocked: 'askAdmin',
  consentRequired: 'askAdmin',
  badTenant: 'fixSetting',
  unreachable: 'wait',
  platformError: 'wait',
  signInAgain: 'signInAgain',
  notSignedIn: 'signInAgain',
  notInTenant: 'signInAgain',
  notAssigned: 'askAdmin',
  serverAppMissing: 'askAdmin',
  clientAppProblem: 'askAdmin',
  interactionRequired: 'signInAgain',
};

export class AuthError extends Error {
  readonly kind: AuthErrorKind;
  readonly retryable: boolean;
  /** The protocol or library code behind it (`invalid_grant`, `AADSTS53003`, `ECONNREFUSED`, …), for logs and support. */
  readonly code?: string;
  /** When the platform asked to wait before retrying (`Retry-After`). */
  readonly retryAfterMs?: number;
  /** What makes it succeed next time; a retryable error waits, honouring `retryAfterMs`. */
  readonly remedy: Remedy;

  constructor(kind: AuthErrorKind, message: string, details: { code?: string; retryable?: boolean; retryAfterMs?: number } = {}) {
    super(redactSecrets(message));
    this.name = 'AuthError';
    this.kind = kind;
    this.retryable = details.retryable ?? retryableKinds.has(kind);
    if (details.code !== undefined) this.code = details.code;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (this.retryable) this.remedy = { kind: 'wait', ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}) };
    else {
      const remedy = remedies[kind];
      // A kind that is usually transient but was judged final here (an unknown failure) needs a new sign-in.
      this.remedy = { kind: remedy === 'wait' ? 'signInAgain' : remedy };
    }
  }
}

/** What the caller was doing, so the message can name the tenant, host and account involved. */
export interface FailureContext {
  operation: 'signIn' | 'refresh' | 'signOut' | 'accounts';
  loginHost: string;
  tenant: string;
  clientId: string;
  serverId: string;
  username?: string;
  /** Set when the engine itself stopped a device-code flow. */
  stoppedBecause?: 'cancelled' | 'expired';
  failures: TransportFailure[];
}

interface MsalErrorShape {
  errorCode?: unknown;
  errorMessage?: unknown;
  subError?: unknown;
  errorNo?: unknown;
  status?: unknown;
}

// AADSTS codes that decide the outcome whatever OAuth error string carried them.
const aadstsKinds: ReadonlyMap<number, AuthErrorKind> = new Map([
  [53000, 'blocked'],
  [53001, 'blocked'],
  [53002, 'blocked'],
  [53003, 'blocked'],
  [65001, 'consentRequired'],
  [90002, 'badTenant'],
  [90072, 'notInTenant'],
  [50020, 'notInTenant'],
  [50105, 'notAssigned'],
  [500011, 'serverAppMissing'],
  [700016, 'clientAppProblem'],
  [7000218, 'clientAppProblem'],
  [700082, 'signInAgain'],
  [70043, 'signInAgain'],
  [50173, 'signInAgain'],
  [50076, 'interactionRequired'],
  [50079, 'interactionRequired'],
]);

/** Turns whatever MSAL or the network threw into an AuthError. */
export function toAuthError(error: unknown, context: FailureContext): AuthError {
  if (error instanceof AuthError) return error;
  const msal = (typeof error === 'object' && error !== null ? error : {}) as MsalErrorShape;
  const msalCode = typeof msal.errorCode === 'string' ? msal.errorCode : undefined;
  const msalMessage = typeof msal.errorMessage === 'string' ? msal.errorMessage : '';

  if (context.stoppedBecause === 'expired' || msalCode === 'device_code_expired' || msalCode === 'user_timeout_reached') {
    return codeExpired();
  }
  if (context.stoppedBecause === 'cancelled' || msalCode === 'device_code_polling_cancelled') return cancelledError();

  const lastFailure = context.failures[context.failures.length - 1];
  if (lastFailure && lastFailure.type !== 'http') return fromTransport(lastFailure, context);

  // The OAuth error and AADSTS codes, from the wire when we saw them there, else from what MSAL kept.
  const oauthError = (lastFailure?.type === 'http' ? lastFailure.error : undefined) ?? oauthErrorFromMsal(msalCode, msalMessage);
  const aadsts = lastFailure?.type === 'http' && lastFailure.errorCodes.length > 0 ? lastFailure.errorCodes : aadstsFromMsal(msal, msalMessage);
  const status = lastFailure?.type === 'http' ? lastFailure.status : typeof msal.status === 'number' ? msal.status : undefined;
  const retryAfterMs = lastFailure?.type === 'http' && lastFailure.retryAfterSeconds !== undefined ? lastFailure.retryAfterSeconds * 1000 : undefined;

  for (const code of aadsts) {
    const kind = aadstsKinds.get(code);
    if (kind) return byKind(kind, context, `AADSTS${code}`);
  }

  switch (oauthError) {
    case 'authorization_declined':
    case 'access_denied':
      return new AuthError('declined', `Sign-in was declined${context.operation === 'signIn' && aadsts.includes(65004) ? ' (consent was not given)' : ''}. Start the sign-in again and approve the request to continue.`, { code: oauthError });
    case 'expired_token':
      return codeExpired();
    case 'consent_required':
      return byKind('consentRequired', context, oauthError);
    case 'invalid_tenant':
      return byKind('badTenant', context, oauthError);
    case 'invalid_grant':
    case 'interaction_required':
    case 'login_required':
    case 'bad_token':
      return byKind('signInAgain', context, oauthError);
    case 'temporarily_unavailable':
    case 'server_error':
      return platformError(context, oauthError, status, retryAfterMs);
    default:
      break;
  }

  if (status !== undefined && (status >= 500 || status === 429)) return platformError(context, `HTTP ${status}`, status, retryAfterMs);
  // MSAL replays a recent 5xx or 429 from memory without a request, with only the AADSTS numbers as its code.
  if (msalCode !== undefined && /^\d+( \d+)*$/.test(msalCode)) return platformError(context, `AADSTS${msalCode.split(' ')[0]}`, undefined, retryAfterMs);

  switch (msalCode) {
    case 'no_account_in_silent_request':
    case 'no_account_found':
      return byKind('notSignedIn', context, msalCode);
    case 'no_tokens_found':
    case 'refresh_token_expired':
    case 'native_account_unavailable':
      return byKind('signInAgain', context, msalCode);
    case 'endpoints_resolution_error':
    case 'openid_config_error':
      // Discovery answered, but not with a usable document: a 4xx means the tenant does not exist there.
      if (status !== undefined && status >= 400 && status < 500) return byKind('badTenant', context, msalCode);
      return platformError(context, msalCode, status, retryAfterMs);
    case 'network_error':
    case 'no_network_connectivity':
      return new AuthError('unreachable', `Cannot reach the sign-in service at ${hostOf(context.loginHost)}. Check the network connection or proxy; the request will be retried.`, { code: msalCode });
    case 'token_parsing_error':
    case 'null_or_empty_token':
    case 'client_info_decoding_error':
    case 'client_info_empty_error':
    case 'invalid_cache_record':
    case 'unexpected_credential_type':
      return platformError(context, msalCode, status, retryAfterMs);
    default:
      break;
  }

  const code = oauthError ?? msalCode ?? (status !== undefined ? `HTTP ${status}` : 'unknown');
  const what = context.operation === 'signIn' ? 'Sign-in' : context.operation === 'refresh' ? 'Refreshing the token' : 'The sign-in cache operation';
  return new AuthError('platformError', `${what} failed at ${hostOf(context.loginHost)} (${code}). Try again; if it keeps failing, sign in again.`, { code, retryable: false });
}


function fromTransport(failure: Exclude<TransportFailure, { type: 'http' }>, context: FailureContext): AuthError {
  if (failure.type === 'malformed') {
    return platformError(context, 'malformed response', failure.status, undefined);
  }
  const code = failure.type === 'timeout' ? 'ETIMEDOUT' : failure.code;
  if (isUntrustedCertificate(code)) {
    return new AuthError(
      'unreachable',
      `The sign-in service at ${failure.host} presented a certificate this machine does not trust (${code}). If a proxy or firewall inspects HTTPS, add its CA to the system certificate store and keep the setting http.systemCertificates on; the request will be retried.`,
      { code },
    );
  }
  const cause = failure.type === 'timeout' ? 'it did not answer in time' : `${code}`;
  return new AuthError(
    'unreachable',
    `Cannot reach the sign-in service at ${failure.host} (${cause}). Check the network connection or proxy; the request will be retried.`,
    { code },
  );
}

function platformError(context: FailureContext, code: string, status: number | undefined, retryAfterMs: number | undefined): AuthError {
  const detail = status !== undefined && !code.startsWith('HTTP') ? `${code}, HTTP ${status}` : code;
  return new AuthError(
    'platformError',
    `The sign-in service at ${hostOf(context.loginHost)} had a temporary problem (${detail}). It will be retried; nothing needs to change on your side.`,
    { code, retryable: true, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
  );
}

export function browserTimedOut(): AuthError {
  return new AuthError('codeExpired', 'The browser sign-in was not finished within 5 minutes. Start the sign-in again and complete it in the browser tab it opens.', { code: 'browser_timeout' });
}

export function cancelledError(): AuthError {
  return new AuthError('cancelled', 'Sign-in was cancelled. Nothing was changed; start the sign-in again when you are ready.', { code: 'cancelled' });
}

function codeExpired(): AuthError {
  return new AuthError('codeExpired', 'The sign-in code expired before it was approved. Start the sign-in again and enter the new code promptly.', { code: 'expired_token' });
}

function byKind(kind: AuthErrorKind, context: FailureContext, code: string): AuthError {
  const host = hostOf(context.loginHost);
  switch (kind) {
    case 'blocked':
      return blockedError(context, code);
    case 'notInTenant':
      return new AuthError(
        'notInTenant',
        `The account${context.username ? ` ${context.username}` : ''} is not a member of the tenant "${context.tenant}" that this cluster uses (${code}). Sign in with another account of that tenant, or ask its administrator to invite yours as a guest.`,
        { code },
      );
    case 'notAssigned':
      return new AuthError(
        'notAssigned',
        `The account is not assigned to the client app ${context.clientId} in the tenant "${context.tenant}", which requires assignment (${code}). Ask an administrator to assign you (or a group you are in) to the app in Microsoft Entra ID, then sign in again.`,
        { code },
      );
    case 'serverAppMissing':
      return new AuthError(
        'serverAppMissing',
        `The cluster's server app ${context.serverId} does not exist in the tenant "${context.tenant}" (${code}): the kubeconfig names the wrong tenant, or Microsoft Entra ID integration is not set up for the cluster there. Check the tenant with the cluster's owner, or ask an administrator to enable the AKS server app in that tenant.`,
        { code },
      );
    case 'clientAppProblem':
      return new AuthError(
        'clientAppProblem',
        code === 'AADSTS7000218'
          ? `The client app ${context.clientId} is not allowed to use public client flows in the tenant "${context.tenant}" (${code}). An administrator must turn on "Allow public client flows" for the app, or the kubeconfig must name a public client app.`
          : `The client app ${context.clientId} was not found in the tenant "${context.tenant}" (${code}). Check the client id in the kubeconfig entry, or ask an administrator to add the app to the tenant.`,
        { code },
      );
    case 'interactionRequired': {
      const why =
        code === 'AADSTS50079'
          ? 'asks you to register security information (for multi-factor authentication) first'
          : 'now requires multi-factor authentication (additional verification) for this sign-in';
      return new AuthError('interactionRequired', `The tenant "${context.tenant}" ${why} (${code}). Sign in again to complete it.`, { code, retryable: false });
    }
    case 'consentRequired':
      return new AuthError(
        'consentRequired',
        `The client app ${context.clientId} has not been granted access to the cluster's server app ${context.serverId} in this tenant (${code}). Ask an administrator to grant consent in Microsoft Entra ID, then sign in again.`,
        { code },
      );
    case 'badTenant':
      return new AuthError(
        'badTenant',
        `The tenant "${context.tenant}" was not found at ${host} (${code}). Check the tenant id and the cloud environment of this cluster's kubeconfig entry.`,
        { code },
      );
    case 'signInAgain': {
      const who = context.username ? ` for ${context.username}` : '';
      return new AuthError('signInAgain', `The saved sign-in${who} is no longer valid (${code}); it was revoked, expired or needs new approval. Sign in again.`, { code, retryable: false });
    }
    case 'notSignedIn':
      return new AuthError('notSignedIn', `There is no saved sign-in for this account at ${host}. Sign in first.`, { code, retryable: false });
    default:
      return new AuthError(kind, `Sign-in failed at ${host} (${code}).`, { code });
  }
}

function blockedError(context: FailureContext, code: string): AuthError {
  if (code === 'AADSTS53000' || code === 'AADSTS53001') {
    return new AuthError(
      'blocked',
      `Your organisation's Conditional Access policy accepts only a compliant or managed device for this sign-in (${code}). Sign in from a device your organisation manages, or with a browser on this one if it is managed; ask your administrator if you are unsure which devices qualify.`,
      { code },
    );
  }
  const what = context.operation === 'signIn' ? 'device-code sign-in' : 'this sign-in';
  return new AuthError(
    'blocked',
    `Your organisation's Conditional Access policy blocks ${what} for this account (${code}). Sign in with a browser instead of a device code, or ask your administrator to allow device-code sign-in for the cluster's client app ${context.clientId}.`,
    { code },
  );
}

function oauthErrorFromMsal(msalCode: string | undefined, msalMessage: string): string | undefined {
  // A failed device-code poll surfaces as post_request_failed with the OAuth error as its message.
  if (msalCode === 'post_request_failed') {
    const match = /^[a-z_]+/.exec(msalMessage.trim());
    return match?.[0];
  }
  if (msalCode && /^[a-z_]+$/.test(msalCode) && !msalCode.includes('__')) {
    const knownOAuthErrors = ['invalid_grant', 'interaction_required', 'login_required', 'consent_required', 'temporarily_unavailable', 'server_error', 'authorization_declined', 'expired_token', 'access_denied', 'invalid_tenant', 'bad_token'];
    if (knownOAuthErrors.includes(msalCode)) return msalCode;
  }
  return undefined;
}

function aadstsFromMsal(msal: MsalErrorShape, msalMessage: string): number[] {
  const codes: number[] = [];
  if (typeof msal.errorNo === 'string' && /^\d+$/.test(msal.errorNo)) codes.push(Number(msal.errorNo));
  if (typeof msal.errorNo === 'number') codes.push(msal.errorNo);
  for (const match of msalMessage.matchAll(/AADSTS(\d+)/g)) codes.push(Number(match[1]));
  return codes;
}

function hostOf(loginHost: string): string {
  try {
    return new URL(loginHost).host;
  } catch {
    return loginHost;
  }
}
