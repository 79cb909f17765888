// The proof that the double is faithful enough: real @azure/msal-node signs in with the device-code flow,
// caches the account, serves a silent call from its cache, refreshes, and reports a revoked grant.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { InteractionRequiredAuthError, PublicClientApplication } from '@azure/msal-node';
import { verifyJwt } from '../../support/jwt';
import { demo } from '../../support/identity-platform';
import { caTrustingNetworkClient, startFixture, type Fixture } from './fixture';

let fixture: Fixture;
before(async () => {
  fixture = await startFixture();
});
after(() => fixture.close());

test('real MSAL completes a device-code sign-in, a silent call, a refresh, and sees a revocation', async () => {
  const { platform } = fixture;
  const app = new PublicClientApplication({
    auth: {
      clientId: demo.AKS_CLIENT_APP_ID,
      authority: `${platform.url}/organizations`,
      knownAuthorities: [new URL(platform.url).host],
    },
    system: { networkClient: caTrustingNetworkClient(fixture.ca.caPem) },
  });
  const scopes = [`${demo.AKS_SERVER_APP_ID}/.default`];
  let shownMessage = '';
  const result = await app.acquireTokenByDeviceCode({
    scopes,
    timeout: 30,
    deviceCodeCallback: (response) => {
      shownMessage = response.message;
      void platform.completeDeviceLogin(response.userCode, 'carol@fabrikam.onmicrosoft.com');
    },
  });
  assert.ok(result, 'MSAL returned a result');
  assert.match(shownMessage, /^To sign in, use a web browser to open the page https:\/\/127\.0\.0\.1:\d+\/devicelogin and enter the code [A-Z]{9} to authenticate\.$/);
  const access = verifyJwt(result.accessToken, fixture.signingKeyMap());
  assert.ok(access.ok);
  assert.equal(access.claims.aud, demo.AKS_SERVER_APP_ID);
  assert.equal(result.account?.username, 'carol@fabrikam.onmicrosoft.com');
  assert.equal(result.account?.tenantId, demo.FABRIKAM_TENANT);
  assert.equal(result.tenantId, demo.FABRIKAM_TENANT);
  assert.ok(result.expiresOn && result.expiresOn.getTime() > Date.now() + 3000 * 1000);

  const tokenRequests = () => platform.requests.filter((entry) => entry.path.endsWith('/oauth2/v2.0/token'));
  const beforeSilent = tokenRequests().length;
  const cached = await app.acquireTokenSilent({ account: result.account!, scopes });
  assert.equal(cached.accessToken, result.accessToken, 'served from the cache');
  assert.equal(tokenRequests().length, beforeSilent);

  const refreshed = await app.acquireTokenSilent({ account: result.account!, scopes, forceRefresh: true });
  assert.notEqual(refreshed.accessToken, result.accessToken);
  assert.ok(verifyJwt(refreshed.accessToken, fixture.signingKeyMap()).ok);
  assert.equal(tokenRequests().at(-1)?.grantType, 'refresh_token');
  assert.equal(tokenRequests().at(-1)?.status, 200);

  platform.controls.revokeRefreshTokens('carol@fabrikam.onmicrosoft.com');
  await assert.rejects(app.acquireTokenSilent({ account: result.account!, scopes, forceRefresh: true }), (error: unknown) => {
    assert.ok(error instanceof InteractionRequiredAuthError, `got ${String(error)}`);
    assert.equal(error.errorCode, 'invalid_grant');
    return true;
  });
});
