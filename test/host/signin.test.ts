// The product end to end in a real VS Code: the sandbox (identity platform, API server, az-style
// workspace) behind code-server, sign-in through the command palette and the device-login page in a
// second browser tab, real kubectl reading what was written, the keeper refreshing on its own, a revoked
// refresh token turning the status bar red, and Sign Out restoring the skeleton. The in-host half is
// signin/signin.host.ts; screenshots of the steps stay in .vscode-test/screenshots/signin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { kubectlBinaries } from '../support/kubectl';
import { sandboxContexts, startSandbox } from '../support/sandbox';
import { assertHostInstalled, cacheRoot, repoRoot, runExtensionTests } from './harness';
import { createRunDir } from './harness/paths';
import { e2eVariable, type E2eSettings } from './signin/settings';

/** Short enough that the keeper refreshes within the run, long enough for the steps before it. */
const tokenLifetimeSeconds = 150;

test('sign in from the palette, kubectl works, tokens stay current, sign out restores the skeleton', { timeout: 600_000 }, async (t) => {
  assertHostInstalled();
  const kubectl = new Map(kubectlBinaries().map((binary) => [binary.version, binary.path]));
  for (const version of ['1.20', '1.33'] as const) {
    assert.ok(kubectl.has(version), `kubectl ${version} is needed; run "npm run setup"`);
  }
  assert.ok(existsSync(join(repoRoot, 'dist', 'extension.js')), 'dist/extension.js is bundled (npm test builds it first)');

  const dir = createRunDir('signin');
  // With kubectl 1.20 in use, auto keeps the legacy form for the auth-provider context: both forms are proven.
  const sandbox = await startSandbox({ dir, pathKubectl: '1.20', tokenLifetimeSeconds });
  t.after(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const screenshotsDir = join(cacheRoot, 'screenshots', 'signin');
  rmSync(screenshotsDir, { recursive: true, force: true });

  const settings: E2eSettings = {
    kubeconfigPath: sandbox.kubeconfigPath,
    identityPlatformUrl: sandbox.identityPlatform.url,
    kubectl120: kubectl.get('1.20')!,
    kubectl133: kubectl.get('1.33')!,
    tokenContext: sandboxContexts.current,
    legacyContext: sandboxContexts.legacy,
  };
  const started = Date.now();
  const result = await runExtensionTests({
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: join(__dirname, 'signin', 'index'),
    workspaceFolder: sandbox.workspaceFolder,
    env: { ...sandbox.hostEnv, [e2eVariable]: JSON.stringify(settings) },
    userSettings: {
      ...sandbox.userSettings,
      'aksSignIn.refreshBeforeExpiryMinutes': 1,
      // VS Code replaces the host's PATH with the login shell's; the Kubernetes extension's setting says which kubectl is used.
      'vs-kubernetes': { 'vs-kubernetes.kubectl-path': kubectl.get('1.20') },
    },
    trustWorkspace: true,
    trustedCertificates: [sandbox.ca.serverCertificate.cert],
    screenshotsDir,
    timeoutMs: 540_000,
  });
  process.stdout.write(`host sign-in suite took ${Math.round((Date.now() - started) / 1000)} s\n`);
  assert.equal(result.exitCode, 0, `the in-host suite failed:\n${result.logs}`);
  for (const name of ['02-device-code', '04-signed-in', '05-sign-in-again']) {
    assert.ok(existsSync(join(screenshotsDir, `${name}.png`)), `screenshot ${name} was taken`);
  }
  // What the identity platform saw: one device-code sign-in, and refreshes nobody asked for.
  const refreshes = sandbox.identityPlatform.requests.filter((request) => request.grantType === 'refresh_token' && request.status === 200);
  assert.ok(refreshes.length >= 1, 'the keeper refreshed with the refresh token');
});
