// The device-login page in a real headless Chromium, found by label and role the way a person (or a
// screen reader) finds it, with the test CA trusted through the browser's own certificate check.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { X509Certificate, createHash } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { demo } from '../../support/identity-platform';
import { startFixture, type Fixture } from './fixture';

const CHROMIUM = '/usr/bin/chromium';

let fixture: Fixture;
let browser: Browser | undefined;
before(async () => {
  fixture = await startFixture();
});
after(async () => {
  await browser?.close();
  await fixture.close();
});

test('a person approves a device code in Chromium with Next, an account and Approve', { skip: existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}` }, async () => {
  // Chromium takes no CA file on the command line; pinning the server's public key is its supported way in.
  const spki = new X509Certificate(fixture.ca.serverCertificate.cert).publicKey.export({ type: 'spki', format: 'der' });
  const spkiHash = createHash('sha256').update(spki).digest('base64');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--ignore-certificate-errors-spki-list=${spkiHash}`],
  });
  const code = (
    await fixture.post(`/${demo.CONTOSO_TENANT}/oauth2/v2.0/devicecode`, { client_id: demo.AKS_CLIENT_APP_ID, scope: `${demo.AKS_SERVER_APP_ID}/.default offline_access` })
  ).json();
  const page = await browser.newPage();
  await page.goto(fixture.platform.deviceLoginUrl);
  await page.getByLabel('Code').fill(String(code.user_code));
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'Sign in to Azure Kubernetes Service AAD Client' }).waitFor();
  await page.getByLabel('Bob Developer (bob@contoso.onmicrosoft.com)').check();
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.getByRole('heading', { name: 'You are signed in' }).waitFor();

  const granted = await fixture.post(`/${demo.CONTOSO_TENANT}/oauth2/v2.0/token`, {
    grant_type: 'device_code',
    client_id: demo.AKS_CLIENT_APP_ID,
    device_code: String(code.device_code),
  });
  assert.equal(granted.status, 200, granted.text);
  const claims = JSON.parse(Buffer.from(String(granted.json().access_token).split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  assert.equal(claims.upn, 'bob@contoso.onmicrosoft.com');
});
