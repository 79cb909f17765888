// The local sandbox: an identity platform with demo users, an AKS-like API server that trusts its
// tokens, and a workspace whose kubeconfig is what `az aks get-credentials` hands out. `npm start`
// shows it to a person; the host tests drive the very same thing, so it cannot rot.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApiServer, type ApiServer } from './apiserver';
import { demoWorld, startArmServer, type ArmServer } from './arm';
import { demo, startIdentityPlatform, type IdentityPlatform } from './identity-platform';
import { AKS_MANAGED_CLIENT_ID, AKS_MANAGED_SERVER_ID } from './kubeconfig-fixtures';
import { kubectlBinaries, type KubectlVersion } from './kubectl';
import { createTestCa, type TestCa } from './tls';

export const sandboxContexts = {
  /** Today's skeleton: an exec block that would call kubelogin. The current context. */
  current: 'aks-demo',
  /** The historic skeleton: client-go's azure auth-provider with no token yet. */
  legacy: 'aks-demo-legacy',
  /** The same cluster for a user of Northwind, whose Conditional Access refuses device code: only a browser sign-in works. */
  northwind: 'aks-demo-northwind',
} as const;

/**
 * Where the sandbox's identity platform listens. Not 127.0.0.1: code-server rewrites every 127.0.0.1 and
 * localhost URL an extension opens into its own port proxy, dropping path and query, so neither the
 * device-login page nor an authorize URL could be opened from VS Code there.
 */
export const identityPlatformHost = '127.0.0.2';

export interface SandboxOptions {
  /** Everything the sandbox writes goes below this folder. */
  dir: string;
  /** Which kubectl the workspace's terminal (and the extension's format choice) finds on PATH. */
  pathKubectl?: KubectlVersion;
  tokenLifetimeSeconds?: number;
  identityPlatformPort?: number;
  apiServerPort?: number;
}

export interface Sandbox {
  ca: TestCa;
  identityPlatform: IdentityPlatform;
  apiServer: ApiServer;
  /** Azure Resource Manager with Contoso's and Fabrikam's subscriptions and AKS clusters, all served by `apiServer`. */
  arm: ArmServer;
  workspaceFolder: string;
  kubeconfigPath: string;
  /** The kubeconfig as it was written, before anyone signed in. */
  skeleton: string;
  /** The folder put first on PATH, holding `kubectl`. */
  binDir: string;
  /** Environment for code-server: the extension host and the integrated terminal inherit it. */
  hostEnv: Record<string, string>;
  /** User settings that point sign-in at the sandbox's identity platform. */
  userSettings: Record<string, unknown>;
  close(): Promise<void>;
}

function execUser(tenant: string): string {
  return `    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --environment
      - AzurePublicCloud
      - --server-id
      - ${AKS_MANAGED_SERVER_ID}
      - --client-id
      - ${AKS_MANAGED_CLIENT_ID}
      - --tenant-id
      - ${tenant}
      - --login
      - devicecode
      command: kubelogin
      env: null
      installHint: |2

        kubelogin is not installed which is required to connect to AAD enabled cluster.

        To learn more, please go to https://aka.ms/aks/kubelogin
      provideClusterInfo: false`;
}

function sandboxKubeconfig(server: string, caData: string): string {
  const tenant = demo.CONTOSO_TENANT;
  return `# A sample of what \`az aks get-credentials\` writes for clusters with Microsoft Entra ID:
# the cluster and how to sign in, but no identity yet. AKS Sign-In fills that in.
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${caData}
    server: ${server}
  name: aks-demo
contexts:
- context:
    cluster: aks-demo
    user: clusterUser_rg-demo_aks-demo
  name: ${sandboxContexts.current}
- context:
    cluster: aks-demo
    user: clusterUser_rg-demo_aks-demo-legacy
  name: ${sandboxContexts.legacy}
- context:
    cluster: aks-demo
    user: clusterUser_rg-northwind_aks-demo
  name: ${sandboxContexts.northwind}
current-context: ${sandboxContexts.current}
kind: Config
preferences: {}
users:
- name: clusterUser_rg-demo_aks-demo
  user:
${execUser(tenant)}
# Before Kubernetes 1.24, az wrote the azure auth-provider instead.
- name: clusterUser_rg-demo_aks-demo-legacy
  user:
    auth-provider:
      config:
        apiserver-id: ${AKS_MANAGED_SERVER_ID}
        client-id: ${AKS_MANAGED_CLIENT_ID}
        config-mode: '1'
        environment: AzurePublicCloud
        tenant-id: ${tenant}
      name: azure
# A user of another organisation, whose policy allows no device-code sign-in.
- name: clusterUser_rg-northwind_aks-demo
  user:
${execUser(demo.NORTHWIND_TENANT)}
`;
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const { dir } = options;
  mkdirSync(dir, { recursive: true });
  const ca = createTestCa(join(dir, 'ca'));
  const identityPlatform = await startIdentityPlatform({
    tls: { ...ca.serverCertificate, ca: ca.caPem },
    host: identityPlatformHost,
    port: options.identityPlatformPort,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds,
  });
  identityPlatform.controls.pollIntervalSeconds = 1;
  let apiServer: ApiServer;
  try {
    apiServer = await startApiServer({
      tls: ca.serverCertificate,
      port: options.apiServerPort,
      trustedKeys: () => new Map(identityPlatform.signingKeys.map((key) => [key.kid, key.publicKey])),
      audiences: [AKS_MANAGED_SERVER_ID, `spn:${AKS_MANAGED_SERVER_ID}`],
    });
  } catch (error) {
    await identityPlatform.close();
    throw error;
  }
  const caData = Buffer.from(ca.caPem).toString('base64');
  let arm: ArmServer;
  try {
    arm = await startArmServer({
      tls: ca.serverCertificate,
      trustedKeys: () => new Map(identityPlatform.signingKeys.map((key) => [key.kid, key.publicKey])),
      loginHost: identityPlatform.url,
      // Every cluster's kubeconfig points at the sandbox's API server, so a cluster added from Azure works with kubectl.
      world: demoWorld({ server: apiServer.url, caData }),
    });
  } catch (error) {
    await Promise.allSettled([apiServer.close(), identityPlatform.close()]);
    throw error;
  }

  const workspaceFolder = join(dir, 'workspace');
  const kubeconfigPath = join(workspaceFolder, '.kube', 'config');
  mkdirSync(join(workspaceFolder, '.kube'), { recursive: true });
  const skeleton = sandboxKubeconfig(apiServer.url, Buffer.from(ca.caPem).toString('base64'));
  writeFileSync(kubeconfigPath, skeleton, { mode: 0o600 });
  writeFileSync(
    join(workspaceFolder, 'README.md'),
    `# AKS Sign-In sandbox\n\nThis folder's kubeconfig (\`.kube/config\`) is an az-style skeleton for a local test cluster.\n` +
      `Run **AKS: Sign In…** from the command palette, then \`kubectl get namespaces\` in the terminal.\n`,
  );

  const binDir = join(dir, 'bin');
  rmSync(binDir, { recursive: true, force: true });
  mkdirSync(binDir, { recursive: true });
  const wanted = options.pathKubectl ?? '1.33';
  const kubectl = kubectlBinaries().find((binary) => binary.version === wanted);
  if (kubectl) symlinkSync(kubectl.path, join(binDir, 'kubectl'));

  return {
    ca,
    identityPlatform,
    apiServer,
    arm,
    workspaceFolder,
    kubeconfigPath,
    skeleton,
    binDir,
    hostEnv: {
      NODE_EXTRA_CA_CERTS: ca.caPath,
      KUBECONFIG: kubeconfigPath,
      PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    },
    userSettings: { 'aksSignIn.authorityHost': identityPlatform.url, 'aksSignIn.resourceManagerEndpoint': arm.url },
    async close() {
      await Promise.allSettled([arm.close(), apiServer.close(), identityPlatform.close()]);
    },
  };
}
