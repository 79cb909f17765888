// What the ARM client hands the UI and asks of the sign-in layer. The view models are flat and parsed once,
// so a tree or a quick pick never digs through ARM's resource JSON.

/**
 * A token for Azure Resource Manager. `tenantId` absent means the account's home tenant. `claims` (a JSON
 * claims request, already decoded from ARM's challenge) means the last token was refused and a new one must be
 * fetched from the identity platform, not the cache. The client never learns which sign-in method answers.
 * Called before every request, so the provider is expected to cache (MSAL does).
 */
export type ArmTokenProvider = (request: { tenantId?: string; scopes: string[]; claims?: string }) => Promise<string>;

export interface TenantSummary {
  tenantId: string;
  displayName?: string;
  defaultDomain?: string;
  /** `Home`, `ProjectedBy` or `ManagedBy` (Azure Lighthouse). */
  category?: string;
}

export interface SubscriptionSummary {
  subscriptionId: string;
  /** `/subscriptions/<id>`. */
  id: string;
  displayName: string;
  tenantId: string;
  /** `Enabled`, `Warned`, `PastDue`, `Disabled` or `Deleted`. */
  state: string;
}

/** How people sign in to a cluster's API server: the one value a view shows. */
export type ClusterEntraId =
  | { mode: 'aksManagedEntra'; azureRbac: boolean; tenantId?: string; adminGroupObjectIds: string[] }
  | { mode: 'legacyAad'; serverAppId: string; clientAppId: string; tenantId?: string }
  | { mode: 'localAccountsOnly' };

export interface ClusterSummary {
  /** The ARM resource id as ARM spelled it (its case varies: AKS writes `resourcegroups`). */
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  /** The tenant of the subscription, when the client learned it (always, for clusters found by discovery). */
  tenantId?: string;
  location: string;
  /** The version running now (`currentKubernetesVersion`), else the one asked for. */
  kubernetesVersion?: string;
  provisioningState?: string;
  /** `Running` or `Stopped`. */
  powerState?: string;
  /** The public API server name; absent for a private cluster without one. */
  fqdn?: string;
  privateFqdn?: string;
  isPrivate: boolean;
  entraId: ClusterEntraId;
  /** Static credentials are refused (`disableLocalAccounts`): only Entra ID sign-in reaches the API server. */
  localAccountsDisabled: boolean;
}

export type CredentialFormat = 'exec' | 'azure';

export interface DiscoveryFailure {
  tenantId?: string;
  subscriptionId?: string;
  error: Error;
}

export interface DiscoveryResult {
  tenants: TenantSummary[];
  subscriptions: SubscriptionSummary[];
  clusters: ClusterSummary[];
  /** Tenants and subscriptions that could not be walked; the walk went on without them. */
  failures: DiscoveryFailure[];
}

export interface DiscoverOptions {
  /** Tenants to walk; absent means every tenant the account belongs to (`GET /tenants`). */
  tenants?: Array<string | TenantSummary>;
  onTenant?(tenant: TenantSummary): void;
  onSubscription?(subscription: SubscriptionSummary): void;
  /** Once per page of clusters, as soon as it arrives, so a view can show the first before the last is fetched. */
  onClusters?(subscription: SubscriptionSummary, clusters: ClusterSummary[]): void;
  /** A tenant or subscription that failed; the walk goes on. */
  onFailure?(failure: DiscoveryFailure): void;
  signal?: AbortSignal;
}
