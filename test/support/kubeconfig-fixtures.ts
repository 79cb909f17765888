// Kubeconfig text shaped like what `az aks get-credentials` writes, so tests, the sandbox and benchmarks
// exercise the same layout real users have: clusters, contexts and users in separate lists, keys in
// sorted order, CA data inline, and the user either as an exec-kubelogin entry (today) or as the historic
// `auth-provider: azure` skeleton with no token fields yet.

export const AKS_MANAGED_SERVER_ID = '6dae42f8-4368-4678-94ff-3960e28e3630';
export const AKS_MANAGED_CLIENT_ID = '80faf920-1908-4b52-b5ef-a8e7bedfc67a';

export interface AzSkeletonOptions {
  /** API server URL every cluster points at, e.g. https://127.0.0.1:PORT. */
  server: string;
  /** base64 CA bundle; without it a deterministic ~1.2 KB blob stands in, the size az writes. */
  caData?: string;
  format: 'exec-kubelogin' | 'auth-provider';
  /** How many cluster/context/user triples; 1 when absent. */
  contexts?: number;
  serverId?: string;
  /** Absent: the AKS-managed client. `null`: leave the client id out of the entry. */
  clientId?: string | null;
  /** `null`: leave the tenant out of the entry. */
  tenantId?: string | null;
  environment?: string;
  /** kubelogin `--login` value. */
  loginMode?: string;
  /** auth-provider config-mode; az wrote '1'. `null` leaves it out. */
  configMode?: '0' | '1' | null;
  /** Base for cluster names; context i>0 gets `-<i>` appended. */
  clusterName?: string;
  resourceGroup?: string;
  /** exec args as `--flag value` (az) or `--flag=value`, in az's order or kubelogin's converter order. */
  argStyle?: 'separate' | 'equals';
  argOrder?: 'az' | 'kubelogin';
  eol?: '\n' | '\r\n';
}

export interface AzNames {
  cluster: string;
  context: string;
  user: string;
}

/** The names azSkeleton gives the i-th cluster, context and user. */
export function azNames(index: number, options: Pick<AzSkeletonOptions, 'clusterName' | 'resourceGroup'> = {}): AzNames {
  const base = options.clusterName ?? 'aks-test';
  const cluster = index === 0 ? base : `${base}-${index}`;
  const group = options.resourceGroup ?? 'rg-test';
  return { cluster, context: cluster, user: `clusterUser_${group}_${cluster}` };
}

/** A stand-in CA bundle of realistic size; its content is never verified by anything that reads it. */
export function fakeCaData(seed = 0): string {
  const pem = ['-----BEGIN CERTIFICATE-----'];
  for (let line = 0; line < 14; line++) {
    let chars = '';
    for (let i = 0; i < 64; i++) chars += 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[(seed * 31 + line * 67 + i * 7) % 64];
    pem.push(chars);
  }
  pem.push('-----END CERTIFICATE-----', '');
  return Buffer.from(pem.join('\n')).toString('base64');
}

function execArgs(options: AzSkeletonOptions): string[] {
  const environment = options.environment ?? 'AzurePublicCloud';
  const serverId = options.serverId ?? AKS_MANAGED_SERVER_ID;
  const clientId = options.clientId === undefined ? AKS_MANAGED_CLIENT_ID : options.clientId;
  const tenantId = options.tenantId === undefined ? '72f988bf-86f1-41af-91ab-2d7cd011db47' : options.tenantId;
  const login = options.loginMode ?? 'devicecode';
  const flags: Array<[string, string | null]> =
    options.argOrder === 'kubelogin'
      ? [['--login', login], ['--server-id', serverId], ['--client-id', clientId], ['--tenant-id', tenantId], ['--environment', environment]]
      : [['--environment', environment], ['--server-id', serverId], ['--client-id', clientId], ['--tenant-id', tenantId], ['--login', login]];
  const args = ['get-token'];
  for (const [flag, value] of flags) {
    if (value === null) continue;
    if (options.argStyle === 'equals') args.push(`${flag}=${value}`);
    else args.push(flag, value);
  }
  return args;
}

function userLines(options: AzSkeletonOptions): string[] {
  if (options.format === 'exec-kubelogin') {
    return [
      '    exec:',
      '      apiVersion: client.authentication.k8s.io/v1beta1',
      '      args:',
      ...execArgs(options).map((arg) => `      - ${arg}`),
      '      command: kubelogin',
      '      env: null',
      '      installHint: |2',
      '',
      '        kubelogin is not installed which is required to connect to AAD enabled cluster.',
      '',
      '        To learn more, please go to https://aka.ms/aks/kubelogin',
      '      provideClusterInfo: false',
    ];
  }
  const clientId = options.clientId === undefined ? AKS_MANAGED_CLIENT_ID : options.clientId;
  const tenantId = options.tenantId === undefined ? '72f988bf-86f1-41af-91ab-2d7cd011db47' : options.tenantId;
  const configMode = options.configMode === undefined ? '1' : options.configMode;
  const config: string[] = [`        apiserver-id: ${options.serverId ?? AKS_MANAGED_SERVER_ID}`];
  if (clientId !== null) config.push(`        client-id: ${clientId}`);
  if (configMode !== null) config.push(`        config-mode: '${configMode}'`);
  config.push(`        environment: ${options.environment ?? 'AzurePublicCloud'}`);
  if (tenantId !== null) config.push(`        tenant-id: ${tenantId}`);
  return ['    auth-provider:', '      config:', ...config, '      name: azure'];
}

/** az-style kubeconfig text; the first context is current. */
export function azSkeleton(options: AzSkeletonOptions): string {
  const count = options.contexts ?? 1;
  const names = Array.from({ length: count }, (_, i) => azNames(i, options));
  const user = userLines(options);
  const lines = ['apiVersion: v1', 'clusters:'];
  names.forEach((name, i) => {
    lines.push('- cluster:', `    certificate-authority-data: ${options.caData ?? fakeCaData(i)}`, `    server: ${options.server}`, `  name: ${name.cluster}`);
  });
  lines.push('contexts:');
  for (const name of names) lines.push('- context:', `    cluster: ${name.cluster}`, `    user: ${name.user}`, `  name: ${name.context}`);
  lines.push(`current-context: ${names[0]?.context ?? '""'}`, 'kind: Config', 'preferences: {}', 'users:');
  for (const name of names) lines.push(`- name: ${name.user}`, '  user:', ...user);
  return lines.join(options.eol ?? '\n') + (options.eol ?? '\n');
}
