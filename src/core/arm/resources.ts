// ARM's resource JSON turned into the view models, and cluster ids taken apart. ARM ids are case-insensitive
// and AKS itself writes `resourcegroups` in lower case, so nothing here compares them case-sensitively.
import { ArmError } from './errors';
import type { ClusterEntraId, ClusterSummary, SubscriptionSummary, TenantSummary } from './types';

export interface ClusterId {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

const clusterIdPattern = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.containerservice\/managedclusters\/([^/]+)\/?$/i;

/** The parts of a managed cluster's resource id; throws `badRequest` for anything else. */
export function parseClusterId(id: string): ClusterId {
  const match = clusterIdPattern.exec(id.trim());
  if (!match) {
    throw new ArmError('badRequest', `"${id}" is not the resource id of an AKS cluster (/subscriptions/…/resourceGroups/…/providers/Microsoft.ContainerService/managedClusters/…).`, { code: 'InvalidResourceId', retryable: false });
  }
  const [, subscriptionId, resourceGroup, name] = match as unknown as [string, string, string, string];
  return { subscriptionId: decodeURIComponent(subscriptionId), resourceGroup: decodeURIComponent(resourceGroup), name: decodeURIComponent(name) };
}

/** The request path for a cluster, built from its parts so an id can never smuggle in another path. */
export function clusterPath(id: ClusterId): string {
  return `/subscriptions/${encodeURIComponent(id.subscriptionId)}/resourceGroups/${encodeURIComponent(id.resourceGroup)}/providers/Microsoft.ContainerService/managedClusters/${encodeURIComponent(id.name)}`;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

export function tenantSummary(value: unknown): TenantSummary | undefined {
  if (!isObject(value)) return undefined;
  const tenantId = text(value.tenantId);
  if (!tenantId) return undefined;
  const displayName = text(value.displayName);
  const defaultDomain = text(value.defaultDomain);
  const category = text(value.tenantCategory);
  return { tenantId, ...(displayName ? { displayName } : {}), ...(defaultDomain ? { defaultDomain } : {}), ...(category ? { category } : {}) };
}

export function subscriptionSummary(value: unknown): SubscriptionSummary | undefined {
  if (!isObject(value)) return undefined;
  const subscriptionId = text(value.subscriptionId);
  const tenantId = text(value.tenantId);
  if (!subscriptionId || !tenantId) return undefined;
  return {
    subscriptionId,
    id: text(value.id) ?? `/subscriptions/${subscriptionId}`,
    displayName: text(value.displayName) ?? subscriptionId,
    tenantId,
    state: text(value.state) ?? 'Enabled',
  };
}

function entraIdOf(properties: Json): ClusterEntraId {
  const aad = properties.aadProfile;
  if (!isObject(aad)) return { mode: 'localAccountsOnly' };
  const tenantId = text(aad.tenantID);
  if (aad.managed === true) {
    const groups = Array.isArray(aad.adminGroupObjectIDs) ? aad.adminGroupObjectIDs.filter((group): group is string => typeof group === 'string') : [];
    return { mode: 'aksManagedEntra', azureRbac: aad.enableAzureRBAC === true, ...(tenantId ? { tenantId } : {}), adminGroupObjectIds: groups };
  }
  const serverAppId = text(aad.serverAppID);
  const clientAppId = text(aad.clientAppID);
  if (serverAppId && clientAppId) return { mode: 'legacyAad', serverAppId, clientAppId, ...(tenantId ? { tenantId } : {}) };
  return { mode: 'localAccountsOnly' };
}

/** A managed cluster resource as the UI shows it; undefined when the JSON is not one. */
export function clusterSummary(value: unknown, tenantId?: string): ClusterSummary | undefined {
  if (!isObject(value)) return undefined;
  const id = text(value.id);
  if (!id || !clusterIdPattern.test(id)) return undefined;
  const parts = parseClusterId(id);
  const properties = isObject(value.properties) ? value.properties : {};
  const access = isObject(properties.apiServerAccessProfile) ? properties.apiServerAccessProfile : {};
  const powerState = isObject(properties.powerState) ? text(properties.powerState.code) : undefined;
  const fqdn = text(properties.fqdn);
  const privateFqdn = text(properties.privateFQDN);
  const kubernetesVersion = text(properties.currentKubernetesVersion) ?? text(properties.kubernetesVersion);
  const provisioningState = text(properties.provisioningState);
  return {
    id,
    name: text(value.name) ?? parts.name,
    subscriptionId: parts.subscriptionId,
    resourceGroup: parts.resourceGroup,
    ...(tenantId ? { tenantId } : {}),
    location: text(value.location) ?? '',
    ...(kubernetesVersion ? { kubernetesVersion } : {}),
    ...(provisioningState ? { provisioningState } : {}),
    ...(powerState ? { powerState } : {}),
    ...(fqdn ? { fqdn } : {}),
    ...(privateFqdn ? { privateFqdn } : {}),
    isPrivate: access.enablePrivateCluster === true,
    entraId: entraIdOf(properties),
    localAccountsDisabled: properties.disableLocalAccounts === true,
  };
}
