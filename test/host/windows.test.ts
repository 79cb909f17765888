// Several VS Code windows on one machine, in a real code-server: extra browser tabs on the sandbox
// workspace, each with its own extension host, keep one signed-in identity current together (see
// windows/windows.host.ts). The tab that runs the suite opens a folder of its own whose setting points the
// extension at no kubeconfig, so it never refreshes and can kill the one that does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectlBinaries } from '../support/kubectl';
import { sandboxContexts, startSandbox } from '../support/sandbox';
import { assertHostInstalled, repoRoot, runExtensionTests } from './harness';
import { createRunDir } from './harness/paths';
import { windowsVariable, type WindowsSettings } from './windows/settings';

/** With a one-minute refresh window a token is refreshed about once a minute. */
const tokenLifetimeSeconds = 120;
const lifetimes = Number(process.env.HOST_SOAK_LIFETIMES ?? 1);

test('several windows: one refresh per lifetime, status bars current, a closed window hands over, a killed refresher is replaced', { timeout: 900_000 }, async (t) => {
  assertHostInstalled();
  const kubectl133 = kubectlBinaries().find((binary) => binary.version === '1.33')?.path;
  assert.ok(kubectl133, 'kubectl 1.33 is needed; run "npm run setup"');
  const dir = createRunDir('windows');
  const sandbox = await startSandbox({ dir, pathKubectl: '1.33', tokenLifetimeSeconds });
  t.after(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const controlFolder = join(dir, 'control');
  mkdirSync(join(controlFolder, '.vscode'), { recursive: true });
  writeFileSync(join(controlFolder, '.vscode', 'settings.json'), JSON.stringify({ 'aksSignIn.kubeconfig': join(controlFolder, 'no-kubeconfig') }));

  const settings: WindowsSettings = {
    workspaceFolder: sandbox.workspaceFolder,
    kubeconfigPath: sandbox.kubeconfigPath,
    identityPlatformUrl: sandbox.identityPlatform.url,
    kubectl133,
    context: sandboxContexts.current,
    lifetimes,
  };
  const started = Date.now();
  const result = await runExtensionTests({
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: join(__dirname, 'windows', 'index'),
    workspaceFolder: controlFolder,
    env: { ...sandbox.hostEnv, [windowsVariable]: JSON.stringify(settings) },
    userSettings: { ...sandbox.userSettings, 'aksSignIn.refreshBeforeExpiryMinutes': 1, 'aksSignIn.signInMethod': 'deviceCode' },
    trustWorkspace: true,
    trustedCertificates: [sandbox.ca.serverCertificate.cert],
    timeoutMs: 840_000,
  });
  process.stdout.write(`host several-windows suite took ${Math.round((Date.now() - started) / 1000)} s\n`);
  assert.equal(result.exitCode, 0, `the in-host suite failed:\n${result.logs}`);
});
