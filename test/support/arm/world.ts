// What the Resource Manager double knows: tenants and who is in them, subscriptions, AKS clusters, role
// assignments, and the JSON and kubeconfigs real ARM hands out for them. Kept apart from the HTTP side so a
// test or benchmark can build a world of any size and hand it over.
import { createHash, randomBytes } from 'node:crypto';
import { azSkeleton, fakeCaData } from '../kubeconfig-fixtures';
import { demo } from '../identity-platform';

export type ArmCloudName = 'AzurePublicCloud' | 'AzureUSGovernmentCloud' | 'AzureChinaCloud';

export interface ArmTenantSpec {
  tenantId: string;
  displayName: string;
  defaultDomain: string;
  /** Object ids of the users (members and guests) who belong to the tenant: `GET /tenants` lists it for them. */
  members: string[];
  /** `Home` for the tenants a user belongs to; `ProjectedBy`/`ManagedBy` come from Azure Lighthouse. */
  category?: string;
  countryCode?: string;
}

export interface ArmSubscriptionSpec {
  subscriptionId: string;
  tenantId: string;
  displayName: string;
  state?: 'Enabled' | 'Warned' | 'PastDue' | 'Disabled' | 'Deleted';
}

export interface ArmClusterSpec {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  /** The running version; default 1.30.6. Below 1.24, ARM's default credential format for Entra clusters is `azure`. */
  kubernetesVersion?: string;
  /** `managed`: AKS-managed Entra ID (default); `legacy`: the cluster's own server and client apps; `none`: local accounts only. */
  entra?: 'managed' | 'legacy' | 'none';
  azureRbac?: boolean;
  adminGroupObjectIds?: string[];
  /** Entra tenant of the cluster's sign-in; default the subscription's tenant. */
  entraTenantId?: string;
  legacyApps?: { serverAppId: string; clientAppId: string };
  disableLocalAccounts?: boolean;
  private?: boolean;
  provisioningState?: string;
  powerState?: 'Running' | 'Stopped';
  /** The kubeconfig's `server`; default `https://<fqdn>:443`. Point it at the API server double for end-to-end tests. */
  server?: string;
  /** The kubeconfig's `certificate-authority-data` (base64); default a stand-in of realistic size. */
  caData?: string;
}

export interface RoleAssignment {
  /** Object id of the user. */
  principalId: string;
  /** A built-in role name from `ROLE_ACTIONS`. */
  role: string;
  /** `/`, `/subscriptions/<s>`, `/subscriptions/<s>/resourceGroups/<rg>` or a resource id. */
  scope: string;
}

export interface ArmWorld {
  tenants: ArmTenantSpec[];
  subscriptions: ArmSubscriptionSpec[];
  clusters: ArmClusterSpec[];
  roleAssignments: RoleAssignment[];
}

export const ROLES = {
  owner: 'Owner',
  contributor: 'Contributor',
  reader: 'Reader',
  clusterUser: 'Azure Kubernetes Service Cluster User Role',
  clusterAdmin: 'Azure Kubernetes Service Cluster Admin Role',
} as const;

/** The actions of the built-in roles the double knows (from their role definitions). */
export const ROLE_ACTIONS: Record<string, string[]> = {
  [ROLES.owner]: ['*'],
  [ROLES.contributor]: ['*'],
  [ROLES.reader]: ['*/read'],
  [ROLES.clusterUser]: ['Microsoft.ContainerService/managedClusters/listClusterUserCredential/action', 'Microsoft.ContainerService/managedClusters/read'],
  [ROLES.clusterAdmin]: [
    'Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action',
    'Microsoft.ContainerService/managedClusters/accessProfiles/listCredential/action',
    'Microsoft.ContainerService/managedClusters/read',
    'Microsoft.ContainerService/managedClusters/runcommand/action',
    'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action',
  ],
};

export const ACTIONS = {
  clusterRead: 'Microsoft.ContainerService/managedClusters/read',
  userCredential: 'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action',
  adminCredential: 'Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action',
} as const;

const actionPatterns = new Map<string, RegExp>();
function actionPattern(action: string): RegExp {
  let pattern = actionPatterns.get(action);
  if (!pattern) {
    pattern = new RegExp(`^${action.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`, 'i');
    actionPatterns.set(action, pattern);
  }
  return pattern;
}

const trimSlashes = (path: string) => {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  return path.slice(0, end).toLowerCase();
};

/** Whether `scope` is `ancestor` or below it, comparing ARM paths case-insensitively at segment boundaries. */
export function scopeCovers(ancestor: string, scope: string): boolean {
  const a = trimSlashes(ancestor);
  const s = trimSlashes(scope);
  return a === '' || s === a || (s.startsWith(a) && s.charCodeAt(a.length) === 47);
}

export function isAllowed(world: ArmWorld, principalId: string, action: string, scope: string): boolean {
  return world.roleAssignments.some(
    (assignment) =>
      assignment.principalId.toLowerCase() === principalId.toLowerCase() &&
      scopeCovers(assignment.scope, scope) &&
      (ROLE_ACTIONS[assignment.role] ?? []).some((allowed) => actionPattern(allowed).test(action)),
  );
}

/** Any role at all in the subscription, or above it: what makes ARM list a subscription for a user. */
export function hasAnyRoleIn(world: ArmWorld, principalId: string, subscriptionId: string): boolean {
  const subscriptionScope = `/subscriptions/${subscriptionId}`;
  return world.roleAssignments.some(
    (assignment) =>
      assignment.principalId.toLowerCase() === principalId.toLowerCase() &&
      (scopeCovers(assignment.scope, subscriptionScope) || scopeCovers(subscriptionScope, assignment.scope)),
  );
}

interface CloudShape {
  /** The kubelogin/client-go environment name ARM puts into kubeconfigs. */
  environment: ArmCloudName;
  fqdnSuffix: (location: string) => string;
  privateSuffix: (location: string) => string;
  /** The `aud` values ARM accepts in this cloud (its v1 resource id and its host, with and without the slash). */
  audiences: string[];
}

export const CLOUDS: Record<ArmCloudName, CloudShape> = {
  AzurePublicCloud: {
    environment: 'AzurePublicCloud',
    fqdnSuffix: (location) => `hcp.${location}.azmk8s.io`,
    privateSuffix: (location) => `privatelink.${location}.azmk8s.io`,
    audiences: ['https://management.core.windows.net/', 'https://management.core.windows.net', 'https://management.azure.com/', 'https://management.azure.com'],
  },
  AzureUSGovernmentCloud: {
    environment: 'AzureUSGovernmentCloud',
    fqdnSuffix: (location) => `hcp.${location}.cx.aks.containerservice.azure.us`,
    privateSuffix: (location) => `privatelink.${location}.cx.aks.containerservice.azure.us`,
    audiences: ['https://management.core.usgovcloudapi.net/', 'https://management.core.usgovcloudapi.net', 'https://management.usgovcloudapi.net/', 'https://management.usgovcloudapi.net'],
  },
  AzureChinaCloud: {
    environment: 'AzureChinaCloud',
    fqdnSuffix: (location) => `hcp.${location}.cx.prod.service.azk8s.cn`,
    privateSuffix: (location) => `privatelink.${location}.cx.prod.service.azk8s.cn`,
    audiences: ['https://management.core.chinacloudapi.cn/', 'https://management.core.chinacloudapi.cn', 'https://management.chinacloudapi.cn/', 'https://management.chinacloudapi.cn'],
  },
};

const shortHash = (text: string, length = 8) => createHash('sha256').update(text.toLowerCase()).digest('hex').slice(0, length);

/** What ARM writes in `id`: AKS spells the resource group segment `resourcegroups`, in lower case. */
export function clusterResourceId(cluster: Pick<ArmClusterSpec, 'subscriptionId' | 'resourceGroup' | 'name'>): string {
  return `/subscriptions/${cluster.subscriptionId}/resourcegroups/${cluster.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${cluster.name}`;
}

/** `az aks create`'s default: the first 10 characters of the name, 16 of the group, 6 of the subscription. */
function dnsPrefix(cluster: ArmClusterSpec): string {
  return `${cluster.name.slice(0, 10)}-${cluster.resourceGroup.slice(0, 16)}-${cluster.subscriptionId.slice(0, 6)}`.replace(/[^A-Za-z0-9-]/g, '');
}

export function clusterFqdns(cluster: ArmClusterSpec, cloud: ArmCloudName): { fqdn?: string; privateFqdn?: string } {
  const shape = CLOUDS[cloud];
  const base = `${dnsPrefix(cluster)}-${shortHash(clusterResourceId(cluster))}`;
  if (cluster.private) return { privateFqdn: `${base}.${shortHash(`${cluster.name}/private`, 8)}-${shortHash(cluster.subscriptionId, 4)}.${shape.privateSuffix(cluster.location)}` };
  return { fqdn: `${base}.${shape.fqdnSuffix(cluster.location)}` };
}

function subscriptionOf(world: ArmWorld, subscriptionId: string): ArmSubscriptionSpec | undefined {
  return world.subscriptions.find((subscription) => subscription.subscriptionId.toLowerCase() === subscriptionId.toLowerCase());
}

export function entraTenantOf(world: ArmWorld, cluster: ArmClusterSpec): string {
  return cluster.entraTenantId ?? subscriptionOf(world, cluster.subscriptionId)?.tenantId ?? '';
}

/** The managed cluster resource as `GET …/managedClusters/{name}` answers it. */
export function clusterResource(world: ArmWorld, cluster: ArmClusterSpec, cloud: ArmCloudName): Record<string, unknown> {
  const version = cluster.kubernetesVersion ?? '1.30.6';
  const minor = version.split('.').slice(0, 2).join('.');
  const { fqdn, privateFqdn } = clusterFqdns(cluster, cloud);
  const entra = cluster.entra ?? 'managed';
  const tenantId = entraTenantOf(world, cluster);
  const power = { code: cluster.powerState ?? 'Running' };
  const aadProfile =
    entra === 'managed'
      ? { managed: true, adminGroupObjectIDs: cluster.adminGroupObjectIds ?? [demo.CLUSTER_ADMINS_GROUP], adminUsers: null, enableAzureRBAC: cluster.azureRbac === true, tenantID: tenantId }
      : entra === 'legacy'
        ? { clientAppID: cluster.legacyApps?.clientAppId ?? '', serverAppID: cluster.legacyApps?.serverAppId ?? '', tenantID: tenantId }
        : undefined;
  return {
    id: clusterResourceId(cluster),
    location: cluster.location,
    name: cluster.name,
    type: 'Microsoft.ContainerService/ManagedClusters',
    tags: {},
    sku: { name: 'Base', tier: 'Free' },
    identity: { type: 'SystemAssigned', principalId: uuidFrom(`${clusterResourceId(cluster)}/identity`), tenantId },
    properties: {
      provisioningState: cluster.provisioningState ?? 'Succeeded',
      powerState: power,
      kubernetesVersion: minor,
      currentKubernetesVersion: version,
      dnsPrefix: dnsPrefix(cluster),
      ...(fqdn ? { fqdn, azurePortalFQDN: fqdn.replace(/^([^.]+)\./, '$1.portal.') } : {}),
      ...(privateFqdn ? { privateFQDN: privateFqdn } : {}),
      agentPoolProfiles: [
        {
          name: 'nodepool1',
          count: 3,
          vmSize: 'Standard_DS2_v2',
          osDiskSizeGB: 128,
          osDiskType: 'Managed',
          kubeletDiskType: 'OS',
          maxPods: 110,
          type: 'VirtualMachineScaleSets',
          enableAutoScaling: false,
          provisioningState: cluster.provisioningState ?? 'Succeeded',
          powerState: power,
          orchestratorVersion: minor,
          currentOrchestratorVersion: version,
          mode: 'System',
          osType: 'Linux',
          osSKU: 'Ubuntu',
          nodeImageVersion: 'AKSUbuntu-2204gen2containerd-202410.15.0',
          enableFIPS: false,
        },
      ],
      // az aks list/show crash on a cluster resource without it.
      servicePrincipalProfile: { clientId: 'msi' },
      nodeResourceGroup: `MC_${cluster.resourceGroup}_${cluster.name}_${cluster.location}`,
      enableRBAC: true,
      supportPlan: 'KubernetesOfficial',
      networkProfile: {
        networkPlugin: 'azure',
        networkPluginMode: 'overlay',
        networkPolicy: 'none',
        networkDataplane: 'azure',
        loadBalancerSku: 'standard',
        podCidr: '10.244.0.0/16',
        serviceCidr: '10.0.0.0/16',
        dnsServiceIP: '10.0.0.10',
        outboundType: 'loadBalancer',
        podCidrs: ['10.244.0.0/16'],
        serviceCidrs: ['10.0.0.0/16'],
        ipFamilies: ['IPv4'],
      },
      ...(aadProfile ? { aadProfile } : {}),
      maxAgentPools: 100,
      ...(cluster.private ? { apiServerAccessProfile: { enablePrivateCluster: true, privateDNSZone: 'system', enablePrivateClusterPublicFQDN: false } } : {}),
      disableLocalAccounts: cluster.disableLocalAccounts === true,
      securityProfile: {},
      storageProfile: { diskCSIDriver: { enabled: true }, fileCSIDriver: { enabled: true }, snapshotController: { enabled: true } },
      oidcIssuerProfile: { enabled: false },
      workloadAutoScalerProfile: {},
    },
  };
}

function uuidFrom(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** ARM's default for Entra clusters: `exec` from Kubernetes 1.24 on, the `azure` auth-provider before. */
export function defaultCredentialFormat(cluster: ArmClusterSpec): 'exec' | 'azure' {
  const [major, minor] = (cluster.kubernetesVersion ?? '1.30.6').split('.').map(Number) as [number, number];
  return major > 1 || (major === 1 && minor >= 24) ? 'exec' : 'azure';
}

function serverOf(cluster: ArmClusterSpec, cloud: ArmCloudName): string {
  if (cluster.server) return cluster.server;
  const { fqdn, privateFqdn } = clusterFqdns(cluster, cloud);
  return `https://${fqdn ?? privateFqdn}:443`;
}

/** A stand-in client certificate or key of realistic size; nothing in the tests verifies it. */
function standInPem(label: string, seed: string): string {
  const body = createHash('sha512').update(seed).digest('base64').repeat(16).slice(0, 64 * 18);
  const lines = body.match(/.{1,64}/g) ?? [];
  return Buffer.from([`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`, ''].join('\n')).toString('base64');
}

/**
 * What `listClusterUserCredential` answers as `kubeconfigs[0].value` (decoded): the kubelogin exec skeleton
 * or the historic auth-provider for Entra ID clusters, a client certificate for local accounts. The Entra
 * forms are the same text the rest of the tests call "what az writes".
 */
export function userKubeconfig(world: ArmWorld, cluster: ArmClusterSpec, cloud: ArmCloudName, format: 'exec' | 'azure'): string {
  const entra = cluster.entra ?? 'managed';
  const server = serverOf(cluster, cloud);
  const caData = cluster.caData ?? fakeCaData(Number.parseInt(shortHash(cluster.name, 4), 16) % 97);
  if (entra === 'none') return certificateKubeconfig(cluster, server, caData, 'clusterUser');
  return azSkeleton({
    server,
    caData,
    format: format === 'exec' ? 'exec-kubelogin' : 'auth-provider',
    clusterName: cluster.name,
    resourceGroup: cluster.resourceGroup,
    tenantId: entraTenantOf(world, cluster),
    environment: CLOUDS[cloud].environment,
    ...(entra === 'legacy' && cluster.legacyApps ? { serverId: cluster.legacyApps.serverAppId, clientId: cluster.legacyApps.clientAppId } : {}),
  });
}

/** `listClusterAdminCredential`: the local admin account, whatever the cluster's Entra ID mode. */
export function adminKubeconfig(cluster: ArmClusterSpec, cloud: ArmCloudName): string {
  return certificateKubeconfig(cluster, serverOf(cluster, cloud), cluster.caData ?? fakeCaData(3), 'clusterAdmin');
}

function certificateKubeconfig(cluster: ArmClusterSpec, server: string, caData: string, account: 'clusterUser' | 'clusterAdmin'): string {
  const user = `${account}_${cluster.resourceGroup}_${cluster.name}`;
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${caData}`,
    `    server: ${server}`,
    `  name: ${cluster.name}`,
    'contexts:',
    '- context:',
    `    cluster: ${cluster.name}`,
    `    user: ${user}`,
    `  name: ${cluster.name}`,
    `current-context: ${cluster.name}`,
    'kind: Config',
    'preferences: {}',
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate-data: ${standInPem('CERTIFICATE', `${user}/cert`)}`,
    `    client-key-data: ${standInPem('RSA PRIVATE KEY', `${user}/key/${randomBytes(8).toString('hex')}`)}`,
    `    token: ${randomBytes(32).toString('hex')}`,
    '',
  ].join('\n');
}

const CONTOSO_PROD = '8c3f1b6e-2d4a-4f5b-9e7c-1a2b3c4d5e01';
const CONTOSO_DEV = '8c3f1b6e-2d4a-4f5b-9e7c-1a2b3c4d5e02';
const FABRIKAM_PROD = '5d9e2a7c-4b6f-4c1d-8e3a-6f7a8b9c0d01';

export const DEMO_SUBSCRIPTIONS = { CONTOSO_PROD, CONTOSO_DEV, FABRIKAM_PROD } as const;

/**
 * Contoso (Alice, Bob, Mallory) and Fabrikam (Carol) as the identity platform double knows them, with a few
 * clusters of every kind. Alice owns Contoso's subscriptions; Bob may list clusters and use one; Carol owns
 * Fabrikam's. `overrides` applies to every cluster (e.g. the API server double's URL and CA).
 */
export function demoWorld(overrides: Partial<Pick<ArmClusterSpec, 'server' | 'caData'>> = {}): ArmWorld {
  const users = Object.fromEntries(demo.defaultUsers().map((user) => [user.username.split('@')[0] as string, user.oid]));
  const alice = users.alice as string;
  const bob = users.bob as string;
  const mallory = users.mallory as string;
  const carol = users.carol as string;
  const clusters: ArmClusterSpec[] = [
    { subscriptionId: CONTOSO_PROD, resourceGroup: 'rg-shop', name: 'aks-shop-prod', location: 'westeurope', azureRbac: true, disableLocalAccounts: true },
    { subscriptionId: CONTOSO_PROD, resourceGroup: 'rg-shop', name: 'aks-shop-legacy', location: 'westeurope', entra: 'legacy', legacyApps: { serverAppId: 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b', clientAppId: 'a5b4c3d2-e1f0-4a9b-8c7d-6e5f4a3b2c1d' } },
    { subscriptionId: CONTOSO_PROD, resourceGroup: 'RG-Payments', name: 'aks-payments', location: 'northeurope', private: true },
    { subscriptionId: CONTOSO_DEV, resourceGroup: 'rg-dev', name: 'aks-dev', location: 'eastus', kubernetesVersion: '1.23.12' },
    { subscriptionId: CONTOSO_DEV, resourceGroup: 'rg-dev', name: 'aks-dev-local', location: 'eastus', entra: 'none' },
    { subscriptionId: CONTOSO_DEV, resourceGroup: 'rg-sandbox', name: 'aks-sandbox-locked', location: 'eastus2', entra: 'none', disableLocalAccounts: true },
    { subscriptionId: FABRIKAM_PROD, resourceGroup: 'rg-fabrikam', name: 'aks-fabrikam', location: 'uksouth' },
  ].map((cluster) => ({ ...cluster, ...overrides }) as ArmClusterSpec);
  return {
    tenants: [
      { tenantId: demo.CONTOSO_TENANT, displayName: 'Contoso', defaultDomain: 'contoso.onmicrosoft.com', members: [alice, bob, mallory], countryCode: 'US' },
      { tenantId: demo.FABRIKAM_TENANT, displayName: 'Fabrikam', defaultDomain: 'fabrikam.onmicrosoft.com', members: [carol], countryCode: 'GB' },
    ],
    subscriptions: [
      { subscriptionId: CONTOSO_PROD, tenantId: demo.CONTOSO_TENANT, displayName: 'Contoso Production' },
      { subscriptionId: CONTOSO_DEV, tenantId: demo.CONTOSO_TENANT, displayName: 'Contoso Development' },
      { subscriptionId: FABRIKAM_PROD, tenantId: demo.FABRIKAM_TENANT, displayName: 'Fabrikam Production' },
    ],
    clusters,
    roleAssignments: [
      { principalId: alice, role: ROLES.owner, scope: `/subscriptions/${CONTOSO_PROD}` },
      { principalId: alice, role: ROLES.owner, scope: `/subscriptions/${CONTOSO_DEV}` },
      { principalId: bob, role: ROLES.reader, scope: `/subscriptions/${CONTOSO_PROD}/resourceGroups/rg-shop` },
      { principalId: bob, role: ROLES.clusterUser, scope: clusterResourceId(clusters[0] as ArmClusterSpec) },
      { principalId: carol, role: ROLES.owner, scope: `/subscriptions/${FABRIKAM_PROD}` },
    ],
  };
}

/**
 * One tenant with `subscriptions` subscriptions of `clustersPerSubscription` clusters each, all readable by
 * `principalId` through a Reader assignment per subscription: the shape of the discovery benchmark.
 */
export function scaledWorld(options: { tenantId: string; principalId: string; subscriptions: number; clustersPerSubscription: number; displayName?: string }): ArmWorld {
  const subscriptions: ArmSubscriptionSpec[] = [];
  const clusters: ArmClusterSpec[] = [];
  const roleAssignments: RoleAssignment[] = [];
  const locations = ['eastus', 'westeurope', 'southeastasia', 'australiaeast'];
  for (let s = 0; s < options.subscriptions; s++) {
    const subscriptionId = uuidFrom(`${options.tenantId}/subscription/${s}`);
    subscriptions.push({ subscriptionId, tenantId: options.tenantId, displayName: `Team ${String(s + 1).padStart(2, '0')}` });
    roleAssignments.push({ principalId: options.principalId, role: ROLES.reader, scope: `/subscriptions/${subscriptionId}` });
    for (let c = 0; c < options.clustersPerSubscription; c++) {
      clusters.push({ subscriptionId, resourceGroup: `rg-team${s + 1}-${c % 3}`, name: `aks-${s + 1}-${c + 1}`, location: locations[c % locations.length] as string });
    }
  }
  return {
    tenants: [{ tenantId: options.tenantId, displayName: options.displayName ?? 'Contoso', defaultDomain: 'contoso.onmicrosoft.com', members: [options.principalId] }],
    subscriptions,
    clusters,
    roleAssignments,
  };
}
