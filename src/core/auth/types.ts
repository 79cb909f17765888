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
  | 'notSignedIn';
