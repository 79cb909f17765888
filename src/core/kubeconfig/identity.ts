import { createHash } from 'node:crypto';
import { documentData, parseYaml } from './document';

export type CredentialFormat = 'legacy' | 'token';

export const AKS_MANAGED_CLIENT_ID = '80faf920-1908-4b52-b5ef-a8e7bedfc67a';
export const DEFAULT_ENVIRONMENT = 'AzurePublicCloud';
/** The name of our entry in a user's `extensions` list, which holds the original skeleton. */
export const EXTENSION_NAME = 'aks-signin';

export interface AksIdentity {
  serverId: string;
  /** The AKS-managed client when the kubeconfig names none. */
  clientId: string;
  /** Absent: sign-in uses the 'organizations' authority. */
  tenantId?: string;
  environment: string;
  configMode?: '0' | '1';
  /** kubelogin's --login value, kept so the skeleton's intent is known. */
  loginMode?: string;
  /** What the original skeleton was, before any write of ours. */
  origin: 'auth-provider' | 'exec-kubelogin';
}

export type UserCredential =
  | {
      kind: 'aks';
      identity: AksIdentity;
      format: 'legacy' | 'token' | 'none';
      expiresOn?: Date;
      /** tokenFingerprint() of the access token the entry holds: tells whose token it is without keeping it. */
      tokenFingerprint?: string;
      managed: boolean;
    }
  | { kind: 'other'; description: string };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** The token-bearing keys of the legacy config map; everything else there is identity. */
export const LEGACY_TOKEN_KEYS = ['access-token', 'refresh-token', 'expires-in', 'expires-on'] as const;

function fromAuthProvider(authProvider: unknown): AksIdentity | undefined {
  if (!isObject(authProvider) || authProvider['name'] !== 'azure') return undefined;
  const config = isObject(authProvider['config']) ? authProvider['config'] : {};
  const serverId = text(config['apiserver-id']);
  if (serverId === undefined) return undefined;
  const mode = text(config['config-mode']);
  return {
    serverId,
    clientId: text(config['client-id']) ?? AKS_MANAGED_CLIENT_ID,
    tenantId: text(config['tenant-id']),
    environment: text(config['environment']) ?? DEFAULT_ENVIRONMENT,
    configMode: mode === '0' || mode === '1' ? mode : undefined,
    origin: 'auth-provider',
  };
}

const KUBELOGIN_FLAGS: Record<string, 'serverId' | 'clientId' | 'tenantId' | 'environment' | 'loginMode'> = {
  '--server-id': 'serverId',
  '--client-id': 'clientId',
  '--tenant-id': 'tenantId',
  '-t': 'tenantId',
  '--environment': 'environment',
  '-e': 'environment',
  '--login': 'loginMode',
  '-l': 'loginMode',
};

function isKubelogin(command: unknown): boolean {
  if (typeof command !== 'string') return false;
  const base = command.split(/[\\/]/).pop() ?? '';
  return /^kubelogin(\.exe)?$/i.test(base);
}

function fromExec(exec: unknown): AksIdentity | undefined {
  if (!isObject(exec) || !isKubelogin(exec['command']) || !Array.isArray(exec['args'])) return undefined;
  const args = exec['args'].map((arg) => String(arg));
  if (args[0] !== 'get-token') return undefined;
  const found: Partial<Record<'serverId' | 'clientId' | 'tenantId' | 'environment' | 'loginMode', string>> = {};
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] ?? '';
    const equals = arg.indexOf('=');
    const flag = equals > 0 ? arg.slice(0, equals) : arg;
    const field = KUBELOGIN_FLAGS[flag];
    if (field === undefined) continue;
    const value = equals > 0 ? arg.slice(equals + 1) : args[++i];
    if (value !== undefined && value.trim() !== '') found[field] = value.trim();
  }
  if (found.serverId === undefined) return undefined;
  return {
    serverId: found.serverId,
    clientId: found.clientId ?? AKS_MANAGED_CLIENT_ID,
    tenantId: found.tenantId,
    environment: found.environment ?? DEFAULT_ENVIRONMENT,
    loginMode: found.loginMode,
    origin: 'exec-kubelogin',
  };
}

/** The skeleton text we keep in the user's extensions, or undefined when the entry was never written by us. */
export function storedSkeleton(body: Json): string | undefined {
  const extensions = body['extensions'];
  if (!Array.isArray(extensions)) return undefined;
  for (const entry of extensions) {
    if (isObject(entry) && entry['name'] === EXTENSION_NAME && isObject(entry['extension'])) {
      const skeleton = entry['extension']['skeleton'];
      if (typeof skeleton === 'string') return skeleton;
    }
  }
  return undefined;
}

/** Parses a stored skeleton (the text of a user body) back into the body it was. */
export function parseSkeleton(skeleton: string): Json | undefined {
  const document = parseYaml(skeleton);
  const value = documentData(document)?.data;
  return isObject(value) ? value : undefined;
}

/** The identity a user body describes, looking through our stored skeleton when there is one. */
export function skeletonIdentity(body: Json): AksIdentity | undefined {
  const stored = storedSkeleton(body);
  const original = stored === undefined ? body : parseSkeleton(stored);
  if (original === undefined) return undefined;
  return fromAuthProvider(original['auth-provider']) ?? fromExec(original['exec']);
}

/** The `exp` claim of a JWT, without verifying it: only to show when the token runs out. */
export function jwtClaims(token: string): Json | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return isObject(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}

function jwtExpiry(token: string): Date | undefined {
  const exp = jwtClaims(token)?.['exp'];
  return typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : undefined;
}

function describeOther(body: Json): string {
  if (isObject(body['exec'])) return `exec plugin ${String(body['exec']['command'] ?? '(no command)')}`;
  if (isObject(body['auth-provider'])) return `auth-provider ${String(body['auth-provider']['name'] ?? '(unnamed)')}`;
  if (body['client-certificate'] !== undefined || body['client-certificate-data'] !== undefined) return 'client certificate';
  if (body['token'] !== undefined || body['tokenFile'] !== undefined) return 'static token';
  if (body['username'] !== undefined) return 'basic authentication';
  return 'no credentials';
}

/** A short one-way digest of a token: enough to tell two tokens apart, useless to anyone who reads it. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 16);
}

/** Classifies a kubeconfig user body (the value of `user:`). */
export function recogniseCredential(body: unknown): UserCredential {
  if (!isObject(body)) return { kind: 'other', description: 'no credentials' };
  const identity = skeletonIdentity(body);
  if (identity === undefined) return { kind: 'other', description: describeOther(body) };
  const managed = storedSkeleton(body) !== undefined;
  const token = text(body['token']);
  if (token !== undefined && !isObject(body['auth-provider']) && !isObject(body['exec'])) {
    return { kind: 'aks', identity, format: 'token', expiresOn: jwtExpiry(token), tokenFingerprint: tokenFingerprint(token), managed };
  }
  const authProvider = body['auth-provider'];
  if (isObject(authProvider) && authProvider['name'] === 'azure' && isObject(authProvider['config'])) {
    const config = authProvider['config'];
    const accessToken = text(config['access-token']);
    if (accessToken !== undefined) {
      const seconds = Number(text(config['expires-on']));
      const expiresOn = Number.isFinite(seconds) ? new Date(seconds * 1000) : undefined;
      return { kind: 'aks', identity, format: 'legacy', expiresOn, tokenFingerprint: tokenFingerprint(accessToken), managed };
    }
  }
  return { kind: 'aks', identity, format: 'none', managed };
}
