// The wire shapes of the Microsoft identity platform (v2 endpoints) that clients depend on: the JSON error
// body with its AADSTS code, the known demo tenants and users, and the scope-to-audience rule.
import { randomInt, randomUUID } from 'node:crypto';

export interface DemoUser {
  username: string;
  displayName: string;
  oid: string;
  homeTenant: string;
  groups: string[];
  /** Conditional access blocks this user: the token request after approval fails with AADSTS53003. */
  blocked?: boolean;
}

export const CONTOSO_TENANT = '3f2a6c1e-8b4d-4e7a-9c51-2d0f6b8a7e10';
export const FABRIKAM_TENANT = 'c9d4e8b2-1a6f-4c3e-b7d5-5e8f0a2c4b61';
/** A tenant whose Conditional Access blocks the device-code flow: only a browser sign-in gets a token. */
export const NORTHWIND_TENANT = '5b7e9d2c-3f41-4a68-8e1d-6c2a9f0b7d34';

export const DEFAULT_TENANTS = [CONTOSO_TENANT, FABRIKAM_TENANT, NORTHWIND_TENANT];

/** Verified domain names that stand for a tenant, as `contoso.onmicrosoft.com` does in Entra ID. */
export const DEFAULT_TENANT_DOMAINS: Record<string, string> = {
  'contoso.onmicrosoft.com': CONTOSO_TENANT,
  'fabrikam.onmicrosoft.com': FABRIKAM_TENANT,
  'northwind.onmicrosoft.com': NORTHWIND_TENANT,
};

/** Tenants whose policy refuses device-code tokens (the default set of tenants only). */
export const DEFAULT_DEVICE_CODE_BLOCKED_TENANTS = [NORTHWIND_TENANT];

/** The id of the demo Conditional Access policy that blocks device code; Entra names it in the claims challenge. */
export const BLOCK_DEVICE_CODE_POLICY_ID = 'd3c0de00-b10c-4e5d-9f1a-7c2b3a4d5e6f';

export const AKS_SERVER_APP_ID = '6dae42f8-4368-4678-94ff-3960e28e3630';
export const AKS_CLIENT_APP_ID = '80faf920-1908-4b52-b5ef-a8e7bedfc67a';
export const AZURE_CLI_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

/** Display names the sign-in pages show for well-known public clients. */
export const DEFAULT_APPLICATION_NAMES: Record<string, string> = {
  [AKS_CLIENT_APP_ID]: 'Azure Kubernetes Service AAD Client',
  [AZURE_CLI_CLIENT_ID]: 'Microsoft Azure CLI',
};

export const CLUSTER_ADMINS_GROUP = '0b8f1a52-6a2c-4e0d-9a7b-3c1d2e4f5a60';
export const DEVELOPERS_GROUP = '7e3d9c11-2b4a-4f6e-8d50-1a2b3c4d5e6f';

export function defaultUsers(): DemoUser[] {
  return [
    {
      username: 'alice@contoso.onmicrosoft.com',
      displayName: 'Alice Admin',
      oid: 'a0c1e2f3-0000-4000-8000-00000000a11c',
      homeTenant: CONTOSO_TENANT,
      groups: [CLUSTER_ADMINS_GROUP],
    },
    {
      username: 'bob@contoso.onmicrosoft.com',
      displayName: 'Bob Developer',
      oid: 'b0b0b0b0-0000-4000-8000-000000000b0b',
      homeTenant: CONTOSO_TENANT,
      groups: [DEVELOPERS_GROUP],
    },
    {
      username: 'mallory@contoso.onmicrosoft.com',
      displayName: 'Mallory Blocked',
      oid: 'dd0a11e7-0000-4000-8000-00000000b10c',
      homeTenant: CONTOSO_TENANT,
      groups: [DEVELOPERS_GROUP],
      blocked: true,
    },
    {
      username: 'carol@fabrikam.onmicrosoft.com',
      displayName: 'Carol Fabrikam',
      oid: 'ca401000-0000-4000-8000-0000000ca401',
      homeTenant: FABRIKAM_TENANT,
      groups: [CLUSTER_ADMINS_GROUP],
    },
    {
      username: 'nina@northwind.onmicrosoft.com',
      displayName: 'Nina Northwind',
      oid: '41a00000-0000-4000-8000-0000000041a0',
      homeTenant: NORTHWIND_TENANT,
      groups: [CLUSTER_ADMINS_GROUP],
    },
  ];
}

/** Tenant path segments that name no single tenant: the signed-in user's home tenant decides. */
export const MULTI_TENANT_SEGMENTS = new Set(['organizations', 'common']);

export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri?: string;
  suberror?: string;
  /** A claims challenge (JSON text), as Conditional Access failures carry. */
  claims?: string;
}

export class EntraError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: number,
    readonly description: string,
    readonly suberror?: string,
    readonly claims?: string,
  ) {
    super(`AADSTS${code}: ${description}`);
  }

  /** The fields an OAuth error redirect carries (authorize endpoint), rather than a JSON body. */
  redirectParameters(correlationId: string): Record<string, string> {
    const body = this.body(correlationId);
    return {
      error: body.error,
      error_description: body.error_description,
      error_uri: body.error_uri ?? '',
      ...(body.suberror ? { error_subcode: body.suberror } : {}),
    };
  }

  body(correlationId: string): EntraErrorBody {
    const traceId = randomUUID();
    const timestamp = entraTimestamp(new Date());
    return {
      error: this.error,
      // Entra appends the ids to the description; clients show this text, so keep the real layout.
      error_description: `AADSTS${this.code}: ${this.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [this.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${this.code}`,
      ...(this.suberror ? { suberror: this.suberror } : {}),
      ...(this.claims ? { claims: this.claims } : {}),
    };
  }
}

export const errors = {
  unknownTenant: (tenant: string) =>
    new EntraError(
      400,
      'invalid_tenant',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    ),
  missingParameter: (name: string) =>
    new EntraError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`),
  unsupportedGrantType: (grantType: string) =>
    new EntraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`),
  invalidScope: (scope: string) =>
    new EntraError(400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope '${scope}' is not valid.`),
  multipleResources: () =>
    new EntraError(400, 'invalid_request', 28000, 'Provided value for the input parameter scope is not valid because it contains more than one resource.'),
  authorizationPending: () =>
    new EntraError(400, 'authorization_pending', 70016, 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.'),
  authorizationDeclined: () =>
    new EntraError(400, 'authorization_declined', 70000, 'The user declined to authorize the device.'),
  expiredDeviceCode: () =>
    new EntraError(400, 'expired_token', 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired."),
  badVerificationCode: () =>
    new EntraError(400, 'bad_verification_code', 70000, "The provided value for the input parameter 'device_code' is not valid."),
  deviceCodeRedeemed: () =>
    new EntraError(400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code.'),
  clientMismatch: () =>
    new EntraError(400, 'invalid_grant', 700025, 'The grant was issued to a different client than the one presenting it.'),
  blocked: () =>
    new EntraError(400, 'invalid_grant', 53003, 'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.', 'message_only'),
  /** A Conditional Access policy on authentication flows (transfer method deviceCodeFlow) refuses the grant. */
  deviceCodeBlocked: () =>
    new EntraError(
      400,
      'invalid_grant',
      53003,
      'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.',
      'message_only',
      JSON.stringify({ access_token: { capolids: { essential: true, values: [BLOCK_DEVICE_CODE_POLICY_ID] } } }),
    ),
  consentRequired: (clientId: string, appName: string) =>
    new EntraError(
      400,
      'invalid_grant',
      65001,
      `The user or administrator has not consented to use the application with ID '${clientId}' named '${appName}'. Send an interactive authorization request for this user and resource.`,
      'consent_required',
    ),
  refreshTokenRevoked: () =>
    new EntraError(
      400,
      'invalid_grant',
      50173,
      'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
      'bad_token',
    ),
  refreshTokenUnknown: () =>
    new EntraError(400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.'),
  userNotInTenant: (username: string) =>
    new EntraError(400, 'invalid_grant', 50020, `User account '${username}' from identity provider does not exist in tenant and cannot access the application.`),
  serverError: () =>
    new EntraError(500, 'server_error', 50000, 'There was an error issuing a token or an issue with our sign-in service.'),
  temporarilyUnavailable: () =>
    new EntraError(503, 'temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.'),
  notFound: (path: string) => new EntraError(404, 'invalid_request', 90027, `The endpoint '${path}' is not served here.`),

  // The authorization-code flow. /authorize shows the first four on its own error page (there is no
  // trustworthy place to redirect to yet); the rest go back to the redirect URI as OAuth errors.
  missingQueryParameter: (name: string) =>
    new EntraError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`),
  unknownClient: (clientId: string) =>
    new EntraError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    ),
  redirectUriNotRegistered: (redirectUri: string, clientId: string) =>
    new EntraError(
      400,
      'invalid_request',
      50011,
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`,
    ),
  unsupportedResponseType: (responseType: string) =>
    new EntraError(400, 'unsupported_response_type', 700054, `response_type '${responseType}' is not enabled for the application.`),
  invalidResponseMode: (responseMode: string) =>
    new EntraError(400, 'invalid_request', 900144, `The provided value for the input parameter 'response_mode' is not valid: '${responseMode}'. Expected one of 'query', 'fragment', 'form_post'.`),
  // 90023 is Entra's generic "the request isn't valid"; the error name is what clients act on.
  invalidCodeChallengeMethod: (method: string) =>
    new EntraError(400, 'invalid_request', 90023, `The code_challenge_method '${method}' is not supported. Use 'S256' (or 'plain').`),
  invalidCodeChallengeSize: () => new EntraError(400, 'invalid_request', 501491, 'Invalid size of Code_Challenge parameter.'),
  invalidPrompt: (prompt: string) =>
    new EntraError(400, 'invalid_request', 90023, `Invalid value '${prompt}' for the 'prompt' parameter. Expected one of 'login', 'select_account', 'consent', 'none'.`),
  userCancelled: () => new EntraError(400, 'access_denied', 65004, 'User declined to consent to access the app.', 'cancel'),
  loginRequired: () =>
    new EntraError(400, 'login_required', 50058, 'A silent sign-in request was sent but no user is signed in.'),
  selectAccountRequired: () =>
    new EntraError(
      400,
      'interaction_required',
      16000,
      'Either multiple user identities are available for the current request or selected account is not supported for the scenario.',
    ),
  consentRequiredOnAuthorize: (clientId: string, appName: string) =>
    new EntraError(
      400,
      'consent_required',
      65001,
      `The user or administrator has not consented to use the application with ID '${clientId}' named '${appName}'. Send an interactive authorization request for this user and resource.`,
    ),
  authorizationCodeMalformed: () => new EntraError(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.'),
  authorizationCodeRedeemed: () =>
    new EntraError(400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.'),
  authorizationCodeExpired: () =>
    new EntraError(
      400,
      'invalid_grant',
      70008,
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    ),
  redirectUriDiffers: (given: string, original: string) =>
    new EntraError(400, 'invalid_grant', 500112, `The reply address '${given}' does not match the reply address '${original}' provided when requesting Authorization code.`),
  codeVerifierMissing: () =>
    new EntraError(400, 'invalid_grant', 50148, 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.'),
  codeVerifierMismatch: () =>
    new EntraError(400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.'),
};

/** Entra's timestamp layout: `2024-05-01 12:00:00Z`. */
export function entraTimestamp(date: Date): string {
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/** The access token's audience for a requested scope string: the one resource it names, like Entra decides. */
export function audienceForScopes(scope: string): string {
  const resourceScopes = scope.split(/\s+/).filter((item) => item && !OIDC_SCOPES.has(item.toLowerCase()));
  const resources = new Set(
    resourceScopes.map((item) => {
      const slash = item.lastIndexOf('/');
      if (slash <= 0 || slash === item.length - 1) throw errors.invalidScope(item);
      const resource = item.slice(0, slash);
      // The `spn:` prefix (v1 resource form that client-go's config-mode 0 uses) names the same app.
      return resource.startsWith('spn:') ? resource.slice('spn:'.length) : resource;
    }),
  );
  if (resources.size > 1) throw errors.multipleResources();
  return [...resources][0] ?? MICROSOFT_GRAPH_APP_ID;
}

// Entra's user codes avoid letters that read alike (I/O, 0/1), so a user can type them from a screen.
const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

export function newUserCode(): string {
  let code = '';
  for (let index = 0; index < 9; index++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}
