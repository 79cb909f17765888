// What a person sees when the extension opens a page in code-server: the sandbox's device-code
// notification link ("Copy Code and Open") asks VS Code to open the device-login page on 127.0.0.2; VS
// Code first asks "Do you want code-server to open the external website?", and after Open the page arrives
// in a new tab with its path intact. This has to run in a workbench opened the way a person opens it:
// with extension tests loaded, VS Code refuses to show that dialog at all (see suite/smoke.host.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startSandboxSession, type SandboxSession } from '../support/sandbox-main';
import { sandboxContexts } from '../support/sandbox';
import { assertHostInstalled, cacheRoot, launchBrowser, runCommand } from './harness';
import { createRunDir } from './harness/paths';

test('"Copy Code and Open" asks before opening the device-login page on 127.0.0.2, then opens it intact', { timeout: 180_000 }, async (t) => {
  assertHostInstalled();
  const dir = createRunDir('open-external');
  const screenshots = join(cacheRoot, 'screenshots', 'open-external');
  rmSync(screenshots, { recursive: true, force: true });
  let session: SandboxSession | undefined;
  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close().catch(() => undefined);
    await session?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  session = await startSandboxSession(dir);
  const { deviceLoginUrl } = session.state;
  assert.match(deviceLoginUrl, /^https:\/\/127\.0\.0\.2:\d+\/devicelogin$/);
  browser = await launchBrowser({ trustedCertificates: [readFileSync(join(dir, 'ca', 'server.crt'), 'utf8')] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const workbench = await context.newPage();
  await workbench.goto(session.url);
  await workbench.locator('[id="aks-signin.aks-signin.aksSignIn.status"]', { hasText: 'AKS: not signed in' }).waitFor({ timeout: 90_000 });

  await runCommand(workbench, 'AKS: Sign In…');
  await workbench.locator('.quick-input-list .monaco-list-row', { hasText: sandboxContexts.current }).first().click();
  await workbench.locator('.quick-input-list .monaco-list-row', { hasText: 'Device code' }).first().click();
  // The code in the modal a person who asked for the sign-in gets, with its own Copy Code and Open.
  const modal = workbench.locator('.monaco-dialog-box', { hasText: 'with the code' });
  await modal.waitFor({ timeout: 30_000 });
  const userCode = /with the code (\S+)/.exec(await modal.innerText())?.[1];
  assert.ok(userCode, 'the modal shows the code');

  const opened: string[] = [];
  context.on('page', (page) => void page.waitForLoadState('domcontentloaded').then(() => opened.push(page.url()), () => undefined));
  await modal.getByRole('button', { name: 'Copy Code and Open' }).click();
  const dialog = workbench.locator('.monaco-dialog-box', { hasText: 'open the external website' });
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /Do you want code-server to open the external website\?/);
  assert.match(await dialog.innerText(), new RegExp(deviceLoginUrl.replace(/[.:/]/g, '\\$&')));
  await workbench.screenshot({ path: join(screenshots, '1-dialog.png') });
  assert.deepEqual(opened, [], 'nothing opens before the person agrees');

  const pageOpened = context.waitForEvent('page');
  await dialog.getByRole('button', { name: 'Open', exact: true }).click();
  const login = await pageOpened;
  await login.waitForURL(deviceLoginUrl);
  await login.getByLabel('Code', { exact: true }).fill(userCode);
  await login.getByRole('button', { name: 'Next', exact: true }).click();
  await login.getByRole('button', { name: 'Approve', exact: true }).click();
  await login.getByText('You are signed in').waitFor();
  await login.screenshot({ path: join(screenshots, '2-device-login.png') });
  await workbench.locator('[id="aks-signin.aks-signin.aksSignIn.status"]', { hasText: /AKS \d+\s*(h|min|m)/ }).waitFor({ timeout: 30_000 });
});
