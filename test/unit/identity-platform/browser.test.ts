// The sign-in pages in a real headless Chromium, found by label and role the way a person (or a screen
// reader) finds them, with the test CA trusted through the browser's own certificate check: the device-login
// page, and the authorize page of real MSAL's interactive flow, whose form_post answer the browser itself
// submits to MSAL's loopback listener.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { X509Certificate, createHash } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { PublicClientApplication } from '@azure/msal-node';
import { verifyJwt } from '../../support/jwt';
import { demo } from '../../support/identity-platform';
import { caTrustingNetworkClient, startFixture, type Fixture } from './fixture';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}`;

let fixture: Fixture;
let browser: Browser | undefined;
before(async () => {
  // 127.0.0.2, where the host tests serve it: the certificate must name that address too.
  fixture = await startFixture({ host: '127.0.0.2' });
});
after(async () => {
  await browser?.close();
  await fixture.close();
});

async function launch(): Promise<Browser> {
  if (browser) return browser;
  // Chromium takes no CA file on the command line; pinning the server's public key is its supported way in.
  const spki = new X509Certificate(fixture.ca.serverCertificate.cert).publicKey.export({ type: 'spki', format: 'der' });
  const spkiHash = createHash('sha256').update(spki).digest('base64');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--ignore-certificate-errors-spki-list=${spkiHash}`],
  });
  return browser;
}

test('a person approves a device code in Chromium with Next, an account and Approve', { skip }, async () => {
  const browser = await launch();
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

test('a person signs in through the authorize page in Chromium; the browser posts the code to MSAL itself', { skip, timeout: 60_000 }, async () => {
  const browser = await launch();
  const context = await browser.newContext();
  const page = await context.newPage();
  const app = new PublicClientApplication({
    auth: { clientId: demo.AKS_CLIENT_APP_ID, authority: `${fixture.platform.url}/organizations`, knownAuthorities: [new URL(fixture.platform.url).host] },
    system: { networkClient: caTrustingNetworkClient(fixture.ca.caPem) },
  });
  const scopes = [`${demo.AKS_SERVER_APP_ID}/.default`];
  const signIn = (person: boolean) =>
    app.acquireTokenInteractive({
      scopes,
      successTemplate: '<h1>Signed in</h1><p>You can close this tab.</p>',
      openBrowser: async (url) => {
        // Not awaited: MSAL waits for its listener, and the page is driven below while it does.
        void page.goto(url);
        if (!person) return;
        await page.getByRole('heading', { name: 'Sign in to Azure Kubernetes Service AAD Client' }).waitFor();
        await page.getByRole('group', { name: 'Pick an account' }).getByLabel('Carol Fabrikam (carol@fabrikam.onmicrosoft.com)').check();
        await page.getByRole('button', { name: 'Accept' }).click();
      },
    });

  const result = await signIn(true);
  await page.getByRole('heading', { name: 'Signed in' }).waitFor();
  assert.match(page.url(), /^http:\/\/localhost:\d+\/$/, 'the form_post page took the browser to MSAL\'s listener');
  assert.equal(result.account?.username, 'carol@fabrikam.onmicrosoft.com');
  assert.equal(result.tenantId, demo.FABRIKAM_TENANT);
  const access = verifyJwt(result.accessToken, fixture.signingKeyMap());
  assert.ok(access.ok);
  assert.equal(access.claims.aud, demo.AKS_SERVER_APP_ID);

  // The browser keeps the session cookie: a second sign-in needs no click at all.
  const again = await signIn(false);
  await page.getByRole('heading', { name: 'Signed in' }).waitFor();
  assert.equal(again.account?.username, 'carol@fabrikam.onmicrosoft.com');
  const authorizeCalls = fixture.platform.requests.filter((request) => request.path.endsWith('/oauth2/v2.0/authorize'));
  const logins = fixture.platform.requests.filter((request) => request.path.endsWith('/login'));
  assert.equal(authorizeCalls.length, 2);
  assert.equal(logins.length, 1, 'one Accept for two sign-ins');
  await context.close();
});
