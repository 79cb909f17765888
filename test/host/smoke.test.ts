// The whole host chain, end to end: code-server serves VS Code, headless Chromium opens the workbench with
// this repository as the extension under development, and the in-host mocha suite (suite/*.host.ts) runs
// in the extension host and reports back its exit code. scripts/setup-host.sh installs what it needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestCa } from '../support/tls';
import { assertHostInstalled, cacheRoot, repoRoot, runExtensionTests } from './harness';
import { createRunDir } from './harness/paths';
import { smokeTlsVariable } from './suite/settings';

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

test('the extension activates in a real VS Code and the in-host suite passes', { timeout: 180_000 }, async (t) => {
  assertHostInstalled();
  assert.ok(existsSync(join(repoRoot, 'dist', 'extension.js')), 'dist/extension.js is bundled (npm test builds it first)');

  const workspaceFolder = createRunDir('workspace');
  t.after(() => rmSync(workspaceFolder, { recursive: true, force: true }));
  writeFileSync(join(workspaceFolder, 'README.md'), '# host smoke workspace\n');
  // A fixed place, so CI can keep the latest screenshots as artifacts.
  const screenshotsDir = join(cacheRoot, 'screenshots', 'smoke');
  rmSync(screenshotsDir, { recursive: true, force: true });

  // For the in-host test's HTTPS page on 127.0.0.2, which the browser must open without a warning.
  const caDir = createRunDir('smoke-ca');
  t.after(() => rmSync(caDir, { recursive: true, force: true }));
  const ca = createTestCa(caDir);

  const started = Date.now();
  const result = await runExtensionTests({
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: join(__dirname, 'suite', 'index'),
    workspaceFolder,
    screenshotsDir,
    env: { [smokeTlsVariable]: caDir },
    trustedCertificates: [ca.serverCertificate.cert],
    linkProtectionTrustedDomains: ['https://127.0.0.2:*'],
    timeoutMs: 120_000,
  });
  process.stdout.write(`host run took ${Date.now() - started} ms\n`);

  assert.equal(result.exitCode, 0, `the in-host suite failed:\n${result.logs}`);
  assert.match(result.logs, /\b8 passing\b/, 'all eight in-host tests ran');
  const png = readFileSync(join(screenshotsDir, 'workbench-smoke.png'));
  assert.deepEqual(png.subarray(0, 8), pngSignature);
});

test('a failing in-host suite comes back as a non-zero exit code', { timeout: 180_000 }, async (t) => {
  assertHostInstalled();
  const workspaceFolder = createRunDir('workspace');
  t.after(() => rmSync(workspaceFolder, { recursive: true, force: true }));
  const result = await runExtensionTests({
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: join(__dirname, 'harness', 'fixtures', 'failingSuite'),
    workspaceFolder,
    timeoutMs: 120_000,
  });
  assert.notEqual(result.exitCode, 0, result.logs);
  assert.match(result.logs, /failing on purpose/, 'the fixture suite itself ran, not a module-not-found');
  rmSync(result.runDir, { recursive: true, force: true });
});
