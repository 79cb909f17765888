// ARM tokens for tests and benchmarks from the identity platform double through real @azure/msal-node, signed
// in once with the device code the way the Azure CLI's client does. Written directly on MSAL because the
// sign-in engine cannot pass a claims request through yet; it keeps every token it hands out so a test can
// look for them where they must never be.
import { PublicClientApplication, type AccountInfo } from '@azure/msal-node';
import { HttpsNetworkClient } from '../../../src/core/auth/network';
import type { ArmTokenProvider } from '../../../src/core/arm';
import type { IdentityPlatform } from '../identity-platform';

/** The Azure CLI's public client, pre-authorised for ARM; MSAL sign-ins for discovery use it. */
export const AZURE_CLI_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

export const PUBLIC_ARM_SCOPES = ['https://management.core.windows.net//.default'];

export interface ArmSignIn {
  account: AccountInfo;
  tokenFor: ArmTokenProvider;
  /** Every access token handed to the client, in order. */
  readonly issued: string[];
  /** Every request the client made of the provider (no tokens in it). */
  readonly calls: Array<{ tenantId?: string; scopes: string[]; claims?: string }>;
}

export async function signInForArm(platform: IdentityPlatform, username: string, options: { ca: string; scopes?: string[] }): Promise<ArmSignIn> {
  const host = new URL(platform.url).host;
  const app = new PublicClientApplication({
    auth: { clientId: AZURE_CLI_CLIENT_ID, authority: `${platform.url}/organizations`, knownAuthorities: [host] },
    system: { networkClient: new HttpsNetworkClient({ ca: [options.ca], requestTimeoutMs: 10_000 }) },
  });
  let approval: Promise<void> = Promise.resolve();
  const result = await app.acquireTokenByDeviceCode({
    scopes: options.scopes ?? PUBLIC_ARM_SCOPES,
    timeout: 30,
    deviceCodeCallback: (response) => {
      approval = platform.completeDeviceLogin(response.userCode, username);
    },
  });
  await approval;
  if (!result?.account) throw new Error(`the device-code sign-in for ${username} returned no account`);
  const account = result.account;
  const issued: string[] = [result.accessToken];
  const calls: ArmSignIn['calls'] = [];
  const tokenFor: ArmTokenProvider = async (request) => {
    calls.push({ ...request, scopes: [...request.scopes] });
    const silent = await app.acquireTokenSilent({
      // MSAL looks the cache up by the account's tenant before the authority's: without this, a request for
      // another tenant is silently answered with the home tenant's token.
      account: request.tenantId ? { ...account, tenantId: request.tenantId } : account,
      scopes: request.scopes,
      authority: `${platform.url}/${request.tenantId ?? 'organizations'}`,
      ...(request.claims !== undefined ? { claims: request.claims } : {}),
    });
    issued.push(silent.accessToken);
    return silent.accessToken;
  };
  return { account, tokenFor, issued, calls };
}
