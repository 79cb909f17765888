export interface AuthTarget {
  /** AzurePublicCloud | AzureChinaCloud | AzureUSGovernmentCloud; unknown names mean the public cloud, as in client-go. */
  environment: string;
  /** Absent means the `organizations` authority; the home tenant is then learned from the token. */
  tenantId?: string;
  clientId: string;
  serverId: string;
  /** '0' addresses the server app as `spn:<serverId>` (v1 style); absent or '1' uses the bare id. */
  configMode?: '0' | '1';
  /** An https URL replacing the cloud's login host (private clouds, tests). */
  authorityHost?: string;
}

export interface SignedInAccount {
  homeAccountId: string;
  username: string;
  tenantId: string;
  name?: string;
}

export interface TokenResult {
  accessToken: string;
  /** The legacy kubeconfig format stores it; absent when the platform issued none. */
  refreshToken?: string;
  expiresOn: Date;
  account: SignedInAccount;
}

export type AuthErrorKind =
  | 'declined'
  | 'codeExpired'
  | 'cancelled'
  | 'blocked'
  | 'consentRequired'
  | 'badTenant'
  | 'unreachable'
  | 'platformError'
  | 'signInAgain'
  | 'notSignedIn'
  /** The account is not a member (or guest) of the tenant the cluster names (AADSTS90072). */
  | 'notInTenant'
  /** The tenant requires assignment to the app and the account is not assigned (AADSTS50105). */
  | 'notAssigned'
  /** The cluster's server app has no service principal in the tenant (AADSTS500011). */
  | 'serverAppMissing'
  /** The client app is missing from the tenant or not allowed to use public client flows (AADSTS700016, 7000218). */
  | 'clientAppProblem'
  /** The tenant now asks for more than the saved sign-in proves: multi-factor or registration (AADSTS50076, 50079). */
  | 'interactionRequired';
