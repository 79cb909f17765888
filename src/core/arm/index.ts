// Azure Resource Manager for discovery: tenants, subscriptions, AKS clusters and their kubeconfigs.
export { ArmClient, ARM_API_VERSIONS } from './client';
export type { ArmClientOptions, ArmRetryOptions, CallOptions, ClusterCallOptions } from './client';
export {
  ArmError,
  AKS_CLUSTER_ADMIN_ROLE,
  AKS_CLUSTER_USER_ROLE,
  READER_ROLE,
  noSubscriptionsError,
  retryAfterMs,
  roleFor,
} from './errors';
export type { ArmErrorDetails, ArmErrorKind } from './errors';
export { parseClusterId } from './resources';
export type { ClusterId } from './resources';
export type {
  ArmTokenProvider,
  ClusterEntraId,
  ClusterSummary,
  CredentialFormat,
  DiscoverOptions,
  DiscoveryFailure,
  DiscoveryResult,
  SubscriptionSummary,
  TenantSummary,
} from './types';
export { resourceManagerFor } from '../auth/clouds';
