// Sign-in methods in a real VS Code (see methods/methods.host.ts): the browser method through the page
// openExternal opens and the loopback redirect (the test browser runs on this machine, so the loopback
// reaches it), a tenant that blocks device codes turned into a browser sign-in by the error's one click,
// and the token of the real Azure CLI, logged in beforehand against the same identity platform.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createAzureCli, findAz } from '../support/azure-cli';
import { demo } from '../support/identity-platform';
import { kubectlBinaries } from '../support/kubectl';
import { sandboxContexts, startSandbox } from '../support/sandbox';
import { assertHostInstalled, cacheRoot, repoRoot, runExtensionTests } from './harness';
import { createRunDir } from './harness/paths';
import { methodsVariable, type MethodsSettings } from './methods/settings';

const azureCliUser = 'bob@contoso.onmicrosoft.com';

test('sign in with the browser, from a blocked device code to the browser in one click, and with the Azure CLI', { timeout: 600_000 }, async (t) => {
  assertHostInstalled();
  const kubectl133 = kubectlBinaries().find((binary) => binary.version === '1.33')?.path;
  assert.ok(kubectl133, 'kubectl 1.33 is needed; run "npm run setup"');
  assert.ok(findAz(), 'the Azure CLI (az) is needed; run "npm run setup"');
  const dir = createRunDir('methods');
  const sandbox = await startSandbox({ dir, pathKubectl: '1.33' });
  const az = await createAzureCli({ identityPlatform: sandbox.identityPlatform, ca: sandbox.ca, dir: join(dir, 'az'), armUrl: sandbox.arm.url });
  t.after(async () => {
    await az.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await az.login(azureCliUser, { tenant: demo.CONTOSO_TENANT });

  const settings: MethodsSettings = {
    kubeconfigPath: sandbox.kubeconfigPath,
    identityPlatformUrl: sandbox.identityPlatform.url,
    kubectl133,
    browserContext: sandboxContexts.current,
    blockedContext: sandboxContexts.northwind,
    azureCliContext: sandboxContexts.legacy,
    azureCliUser,
  };
  // Without the egress trap's proxy variables: VS Code's proxy agent would send the extension's own
  // requests there. The az child keeps its loopback-only guard (sitecustomize) either way.
  const azEnv = Object.fromEntries(Object.entries(az.env()).filter(([name]) => !/^(https?|no|all)_proxy$/i.test(name)));
  const started = Date.now();
  const result = await runExtensionTests({
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: join(__dirname, 'methods', 'index'),
    workspaceFolder: sandbox.workspaceFolder,
    // The extension host runs the same az, on the same profile, as the person did in a terminal.
    env: { ...azEnv, ...sandbox.hostEnv, PATH: `${sandbox.binDir}:${azEnv.PATH}`, [methodsVariable]: JSON.stringify(settings) },
    userSettings: { ...sandbox.userSettings, 'aksSignIn.signInMethod': 'browser' },
    trustWorkspace: true,
    trustedCertificates: [sandbox.ca.serverCertificate.cert],
    // With extension tests loaded VS Code refuses the "open the external website?" dialog; the sign-in page's host is trusted instead.
    linkProtectionTrustedDomains: [new URL(sandbox.identityPlatform.url).origin.replace(/:\d+$/, ':*')],
    screenshotsDir: join(cacheRoot, 'screenshots', 'methods'),
    timeoutMs: 540_000,
  });
  process.stdout.write(`host sign-in methods suite took ${Math.round((Date.now() - started) / 1000)} s\n`);
  assert.equal(result.exitCode, 0, `the in-host suite failed:\n${result.logs}`);
  const grants = sandbox.identityPlatform.requests.filter((entry) => entry.grantType === 'authorization_code' && entry.status === 200);
  assert.equal(grants.length, 2, 'two browser sign-ins redeemed their codes');
});
