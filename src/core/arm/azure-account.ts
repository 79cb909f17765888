// The person's sign-in to Azure Resource Manager, through the same sign-in methods as a cluster's: the
// account it gave, and ARM tokens for it in any tenant the account reaches. MSAL methods use the Azure
// CLI's public client, which Entra pre-authorises both for ARM and for the AKS server app, so the same
// account can later get a cluster token without another prompt.
import { resourceManagerFor } from '../auth/clouds';
import type { SignInMethod, SignInMethodId, SignInUi } from '../auth/methods';
import type { AuthTarget } from '../auth/types';
import type { ArmTokenProvider } from './types';

export const AZURE_CLI_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

export interface AzureAccount {
  method: SignInMethodId;
  homeAccountId: string;
  username: string;
  /** The tenant the account signed in to first (its home tenant, unless one was named). */
  tenantId: string;
  environment: string;
}

export interface ArmSignInSettings {
  environment: string;
  /** The login host replacing the cloud's (aksSignIn.authorityHost). */
  authorityHost?: string;
  /** The ARM endpoint replacing the cloud's (aksSignIn.resourceManagerEndpoint). */
  resourceManagerEndpoint?: string;
}

/** The token request for ARM in `tenantId` (or the account's choice of tenant), as a method sees it. */
export function armTarget(settings: ArmSignInSettings, tenantId: string | undefined, scope?: string): AuthTarget {
  const arm = resourceManagerFor(settings.environment, settings.resourceManagerEndpoint);
  return {
    environment: settings.environment,
    ...(tenantId ? { tenantId } : {}),
    clientId: AZURE_CLI_CLIENT_ID,
    serverId: scope ?? arm.scopes[0] ?? '',
    ...(settings.authorityHost ? { authorityHost: settings.authorityHost } : {}),
  };
}

/** Signs in to ARM with `method`: the account, for every later ARM call and for cluster sign-ins. */
export async function signInToAzure(method: SignInMethod, ui: SignInUi, settings: ArmSignInSettings, tenantId?: string, signal?: AbortSignal): Promise<AzureAccount> {
  const token = await method.acquire(armTarget(settings, tenantId), ui, signal);
  return {
    method: method.id,
    homeAccountId: token.account.homeAccountId,
    username: token.account.username,
    tenantId: token.account.tenantId,
    environment: settings.environment,
  };
}

/** ARM tokens for the client: each tenant as the account sees it, claims challenges passed through. */
export function armTokenProvider(method: SignInMethod, account: AzureAccount, settings: ArmSignInSettings): ArmTokenProvider {
  return async (request) => {
    const target = armTarget(settings, request.tenantId ?? account.tenantId, request.scopes[0]);
    const token = await method.acquireSilent(target, account.homeAccountId, request.claims !== undefined ? { claims: request.claims } : {});
    return token.accessToken;
  };
}
