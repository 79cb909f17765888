// Which login host and scope a kubeconfig identity means, resolved the way client-go and kubelogin resolve it.
import { AuthError } from './errors';
import type { AuthTarget } from './types';

interface Cloud {
  name: string;
  loginHost: string;
}

// Matching is case-insensitive because client-go (go-autorest's EnvironmentFromName) upper-cases the name.
const clouds: readonly Cloud[] = [
  { name: 'AzurePublicCloud', loginHost: 'https://login.microsoftonline.com' },
  { name: 'AzureChinaCloud', loginHost: 'https://login.chinacloudapi.cn' },
  { name: 'AzureUSGovernmentCloud', loginHost: 'https://login.microsoftonline.us' },
  // Retired in 2021, but client-go still accepts the name; resolving it honestly beats silently switching clouds.
  { name: 'AzureGermanCloud', loginHost: 'https://login.microsoftonline.de' },
];

const publicCloud = clouds[0] as Cloud;

/** Hosts MSAL already knows, so it needs no `knownAuthorities` entry (and may do its own instance discovery). */
export const standardLoginHosts: ReadonlySet<string> = new Set(clouds.map((cloud) => new URL(cloud.loginHost).host));

/**
 * The cloud for a kubeconfig `environment` value. Unknown or empty names become the public cloud, as in
 * client-go. `authorityHost` (an https URL) replaces the login host but keeps the cloud's name.
 */
export function resolveCloud(environment: string, authorityHost?: string): { name: string; loginHost: string } {
  const wanted = environment.trim().toLowerCase();
  const cloud = clouds.find((candidate) => candidate.name.toLowerCase() === wanted) ?? publicCloud;
  if (authorityHost === undefined || authorityHost.trim() === '') return { name: cloud.name, loginHost: cloud.loginHost };
  return { name: cloud.name, loginHost: normaliseAuthorityHost(authorityHost) };
}

function normaliseAuthorityHost(authorityHost: string): string {
  let url: URL;
  try {
    url = new URL(authorityHost.trim());
  } catch {
    throw new AuthError('platformError', `The sign-in authority host "${authorityHost}" is not a URL. Set it to an https URL such as https://login.microsoftonline.us, or clear it.`, { code: 'invalid_authority_host' });
  }
  if (url.protocol !== 'https:') {
    throw new AuthError('platformError', `The sign-in authority host "${authorityHost}" must use https. Set it to an https URL such as https://login.microsoftonline.us, or clear it.`, { code: 'invalid_authority_host' });
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
