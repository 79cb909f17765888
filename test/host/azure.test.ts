// From nothing to kubectl in a real VS Code (see azure/azure.host.ts): a workspace with no kubeconfig, a
// sign-in to Azure Resource Manager (the ARM double, with its clusters served by the API server double),
// the tree of tenants, subscriptions and clusters, Add Cluster from Azure, and kubectl 1.33 on the result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { kubectlBinaries } from '../support/kubectl';
import { startSandbox } from '../support/sandbox';
import { assertHostInstalled, cacheRoot, repoRoot, runExtensionTests } from './harness';
import { createRunDir } from './harness/paths';
import { azureVariable, type AzureSettings } from './azure/settings';

test('a kubeconfig-less workspace: sign in to Azure, pick a cluster, kubectl works; a name that exists is asked about', { timeout: 600_000 }, async (t) => {
  assertHostInstalled();
  const kubectl133 = kubectlBinaries().find((binary) => binary.version === '1.33')?.path;
  assert.ok(kubectl133, 'kubectl 1.33 is needed; run "npm run setup"');
  const dir = createRunDir('azure');
  const sandbox = await startSandbox({ dir, pathKubectl: '1.33' });
  t.after(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const workspaceFolder = join(dir, 'newcomer');
  mkdirSync(workspaceFolder, { recursive: true });
  const kubeconfigPath = join(workspaceFolder, '.kube', 'config');
  const settings: AzureSettings = {
    kubeconfigPath,
    identityPlatformUrl: sandbox.identityPlatform.url,
    kubectl133,
    cluster: 'aks-shop-prod',
    subscription: 'Contoso Production',
  };
  const started = Date.now();
  const result = await runExtensionTests({
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: join(__dirname, 'azure', 'index'),
    workspaceFolder,
    env: { ...sandbox.hostEnv, [azureVariable]: JSON.stringify(settings) },
    userSettings: { ...sandbox.userSettings, 'aksSignIn.kubeconfig': kubeconfigPath, 'aksSignIn.signInMethod': 'deviceCode' },
    trustWorkspace: true,
    trustedCertificates: [sandbox.ca.serverCertificate.cert],
    screenshotsDir: join(cacheRoot, 'screenshots', 'azure'),
    timeoutMs: 540_000,
  });
  process.stdout.write(`host Azure discovery suite took ${Math.round((Date.now() - started) / 1000)} s\n`);
  assert.equal(result.exitCode, 0, `the in-host suite failed:\n${result.logs}`);
  const credentialCalls = sandbox.arm.requests.filter((entry) => entry.path.endsWith('/listClusterUserCredential'));
  assert.ok(credentialCalls.length >= 2 && credentialCalls.every((entry) => entry.query.includes('format=exec')), 'credentials were asked for in the exec format');
});
