// Which login host and scope a kubeconfig identity means, resolved the way client-go and kubelogin resolve it.
import { AuthError } from './errors';
import type { AuthTarget } from './types';

interface Cloud {
  name: string;
  loginHost: string;
  /** Azure Resource Manager's endpoint in this cloud. */
  resourceManager: string;
  /**
   * The resource ARM tokens are issued for. The Azure CLI asks for this v1 resource id rather than the ARM host
   * (so `https://management.core.windows.net//.default`, double slash and all); ARM accepts both audiences.
   */
  resourceManagerAudience: string;
}

// Matching is case-insensitive because client-go (go-autorest's EnvironmentFromName) upper-cases the name.
const clouds: readonly Cloud[] = [
  {
    name: 'AzurePublicCloud',
    loginHost: 'https://login.microsoftonline.com',
    resourceManager: 'https://management.azure.com',
    resourceManagerAudience: 'https://management.core.windows.net/',
  },
  {
    name: 'AzureChinaCloud',
    loginHost: 'https://login.chinacloudapi.cn',
    resourceManager: 'https://management.chinacloudapi.cn',
    resourceManagerAudience: 'https://management.core.chinacloudapi.cn/',
  },
  {
    name: 'AzureUSGovernmentCloud',
    loginHost: 'https://login.microsoftonline.us',
    resourceManager: 'https://management.usgovcloudapi.net',
    resourceManagerAudience: 'https://management.core.usgovcloudapi.net/',
  },
  // Retired in 2021, but client-go still accepts the name; resolving it honestly beats silently switching clouds.
  {
    name: 'AzureGermanCloud',
    loginHost: 'https://login.microsoftonline.de',
    resourceManager: 'https://management.microsoftazure.de',
    resourceManagerAudience: 'https://management.core.cloudapi.de/',
  },
];

const publicCloud = clouds[0] as Cloud;

/** Hosts MSAL already knows, so it needs no `knownAuthorities` entry (and may do its own instance discovery). */
export const standardLoginHosts: ReadonlySet<string> = new Set(clouds.map((cloud) => new URL(cloud.loginHost).host));

/**
 * The cloud for a kubeconfig `environment` value. Unknown or empty names become the public cloud, as in
 * client-go. `authorityHost` (an https URL) replaces the login host but keeps the cloud's name.
 */
export function resolveCloud(environment: string, authorityHost?: string): { name: string; loginHost: string } {
  const cloud = cloudNamed(environment);
  if (authorityHost === undefined || authorityHost.trim() === '') return { name: cloud.name, loginHost: cloud.loginHost };
  return { name: cloud.name, loginHost: normaliseAuthorityHost(authorityHost) };
}

function cloudNamed(environment: string): Cloud {
  const wanted = environment.trim().toLowerCase();
  return clouds.find((candidate) => candidate.name.toLowerCase() === wanted) ?? publicCloud;
}

/**
 * Azure Resource Manager for a cloud: where to send requests and the scope of the token they need.
 * `endpointOverride` (an https URL: a private cloud, or a test double) replaces the endpoint but keeps the
 * cloud's scope, as `authorityHost` keeps the cloud's name: a token's audience names the service, not its host.
 */
export function resourceManagerFor(environment: string, endpointOverride?: string): { cloud: string; endpoint: string; scopes: string[] } {
  const cloud = cloudNamed(environment);
  const endpoint = endpointOverride === undefined || endpointOverride.trim() === '' ? cloud.resourceManager : normaliseHttpsUrl(endpointOverride, 'Azure Resource Manager endpoint', 'https://management.usgovcloudapi.net', 'invalid_resource_manager_endpoint');
  return { cloud: cloud.name, endpoint, scopes: [`${cloud.resourceManagerAudience}/.default`] };
}

function normaliseAuthorityHost(authorityHost: string): string {
  return normaliseHttpsUrl(authorityHost, 'sign-in authority host', 'https://login.microsoftonline.us', 'invalid_authority_host');
}

function normaliseHttpsUrl(value: string, what: string, example: string, code: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new AuthError('platformError', `The ${what} "${value}" is not a URL. Set it to an https URL such as ${example}, or clear it.`, { code });
  }
  if (url.protocol !== 'https:') {
    throw new AuthError('platformError', `The ${what} "${value}" must use https. Set it to an https URL such as ${example}, or clear it.`, { code });
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function tenantOf(target: AuthTarget): string {
  const tenant = target.tenantId?.trim();
  return tenant ? tenant : 'organizations';
}

/** `<loginHost>/<tenant or organizations>`. */
export function authorityFor(target: AuthTarget): string {
  return `${resolveCloud(target.environment, target.authorityHost).loginHost}/${tenantOf(target)}`;
}

/**
 * The resource scope for the cluster's server app. config-mode "0" addresses the server app by its service
 * principal name (`spn:<id>`), which is how the v1 endpoint tokens that client-go asked for were audienced.
 * MSAL adds openid, profile and offline_access itself.
 */
export function scopesFor(target: AuthTarget): string[] {
  const serverId = target.serverId.trim().replace(/\/\.default$/i, '');
  const resource = target.configMode === '0' && !serverId.startsWith('spn:') ? `spn:${serverId}` : serverId;
  return [`${resource}/.default`];
}
