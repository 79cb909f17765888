// The device-code grant end to end over plain HTTPS: discovery, the devicecode endpoint, polling, the
// device-login page, and the tokens it hands out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyJwt } from '../../support/jwt';
import { demo } from '../../support/identity-platform';
import { decodeJwtClaims, startFixture, type Fixture } from './fixture';

const CLIENT_ID = demo.AKS_CLIENT_APP_ID;
const SCOPE = `${demo.AKS_SERVER_APP_ID}/.default openid profile offline_access`;
const ALICE = 'alice@contoso.onmicrosoft.com';

let fixture: Fixture;
before(async () => {
  fixture = await startFixture();
});
after(() => fixture.close());

async function startDeviceCode(tenant = demo.CONTOSO_TENANT, scope = SCOPE, clientId = CLIENT_ID) {
  const response = await fixture.post(`/${tenant}/oauth2/v2.0/devicecode`, { client_id: clientId, scope });
  assert.equal(response.status, 200, response.text);
  return response.json() as { user_code: string; device_code: string; verification_uri: string; expires_in: number; interval: number; message: string };
}

function poll(deviceCode: string, tenant = demo.CONTOSO_TENANT, grantType = 'device_code', clientId = CLIENT_ID) {
  return fixture.post(`/${tenant}/oauth2/v2.0/token`, { grant_type: grantType, client_id: clientId, device_code: deviceCode, scope: SCOPE, client_info: '1' });
}

describe('discovery', () => {
  test('a tenant authority publishes its endpoints and a concrete issuer', async () => {
    const response = await fixture.get(`/${demo.CONTOSO_TENANT}/v2.0/.well-known/openid-configuration`);
    assert.equal(response.status, 200);
    const document = response.json();
    const base = `${fixture.platform.url}/${demo.CONTOSO_TENANT}`;
    assert.equal(document.token_endpoint, `${base}/oauth2/v2.0/token`);
    assert.equal(document.device_authorization_endpoint, `${base}/oauth2/v2.0/devicecode`);
    assert.equal(document.authorization_endpoint, `${base}/oauth2/v2.0/authorize`);
    assert.equal(document.jwks_uri, `${base}/discovery/v2.0/keys`);
    assert.equal(document.issuer, `${base}/v2.0`);
  });

  test('organizations publishes the templated issuer, a domain resolves to its tenant id', async () => {
    const organizations = (await fixture.get('/organizations/v2.0/.well-known/openid-configuration')).json();
    assert.equal(organizations.issuer, `${fixture.platform.url}/{tenantid}/v2.0`);
    assert.equal(organizations.token_endpoint, `${fixture.platform.url}/organizations/oauth2/v2.0/token`);
    const domain = (await fixture.get('/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration')).json();
    assert.equal(domain.issuer, `${fixture.platform.url}/${demo.CONTOSO_TENANT}/v2.0`);
  });

  test('the v1 document names the tenant id in its issuer, which is how the Azure CLI resolves a domain', async () => {
    const response = await fixture.get('/northwind.onmicrosoft.com/.well-known/openid-configuration');
    assert.equal(response.status, 200);
    const document = response.json();
    assert.equal(String(document.issuer).split('/')[3], demo.NORTHWIND_TENANT);
    assert.equal(document.token_endpoint, `${fixture.platform.url}/northwind.onmicrosoft.com/oauth2/token`);
    assert.equal((await fixture.get('/nowhere.example/.well-known/openid-configuration')).json().error, 'invalid_tenant');
  });

  test('an unknown tenant is AADSTS90002 on discovery and on the token endpoints', async () => {
    const unknown = '00000000-1111-2222-3333-444444444444';
    const discovery = await fixture.get(`/${unknown}/v2.0/.well-known/openid-configuration`);
    assert.equal(discovery.status, 400);
    assert.equal(discovery.json().error, 'invalid_tenant');
    assert.deepEqual(discovery.json().error_codes, [90002]);
    const devicecode = await fixture.post(`/${unknown}/oauth2/v2.0/devicecode`, { client_id: CLIENT_ID, scope: SCOPE });
    assert.equal(devicecode.status, 400);
    assert.match(String(devicecode.json().error_description), /^AADSTS90002: Tenant '00000000-1111-2222-3333-444444444444' not found/);
  });

  test('the keys endpoint publishes the signing keys', async () => {
    const keys = (await fixture.get(`/${demo.CONTOSO_TENANT}/discovery/v2.0/keys`)).json().keys as { kid: string; kty: string }[];
    assert.deepEqual(keys.map((key) => key.kid), fixture.platform.signingKeys.map((key) => key.kid));
    assert.equal(keys[0]?.kty, 'RSA');
  });
});

describe('device code', () => {
  test('the devicecode response carries everything a client polls with', async () => {
    const code = await startDeviceCode();
    assert.match(code.user_code, /^[A-Z]{9}$/);
    assert.ok(code.device_code.length > 40);
    assert.equal(code.verification_uri, fixture.platform.deviceLoginUrl);
    assert.equal(code.expires_in, 900);
    assert.equal(code.interval, 1);
    assert.equal(
      code.message,
      `To sign in, use a web browser to open the page ${fixture.platform.deviceLoginUrl} and enter the code ${code.user_code} to authenticate.`,
    );
  });

  test('a request without client_id is AADSTS900144', async () => {
    const response = await fixture.post(`/${demo.CONTOSO_TENANT}/oauth2/v2.0/devicecode`, { scope: SCOPE });
    assert.equal(response.status, 400);
    assert.deepEqual(response.json().error_codes, [900144]);
  });

  test('polling is pending until the user approves on the page, then returns verifiable tokens once', async () => {
    const code = await startDeviceCode();
    const pending = await poll(code.device_code);
    assert.equal(pending.status, 400);
    const error = pending.json();
    assert.equal(error.error, 'authorization_pending');
    assert.match(String(error.error_description), /^AADSTS70016: /);
    assert.deepEqual(error.error_codes, [70016]);
    for (const field of ['timestamp', 'trace_id', 'correlation_id']) assert.equal(typeof error[field], 'string', field);

    await fixture.platform.completeDeviceLogin(code.user_code, ALICE);
    const granted = await poll(code.device_code);
    assert.equal(granted.status, 200, granted.text);
    const body = granted.json();
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);
    assert.equal(body.ext_expires_in, 3600);
    assert.equal(body.scope, SCOPE);
    assert.equal(typeof body.refresh_token, 'string');

    const keys = fixture.signingKeyMap();
    const access = verifyJwt(String(body.access_token), keys);
    assert.ok(access.ok, access.ok ? '' : access.reason);
    const alice = fixture.platform.users.find((user) => user.username === ALICE)!;
    const claims = access.claims;
    assert.equal(claims.aud, demo.AKS_SERVER_APP_ID);
    assert.equal(claims.iss, `${fixture.platform.url}/${demo.CONTOSO_TENANT}/v2.0`);
    assert.equal(claims.tid, demo.CONTOSO_TENANT);
    assert.equal(claims.oid, alice.oid);
    assert.equal(claims.upn, ALICE);
    assert.equal(claims.preferred_username, ALICE);
    assert.equal(claims.name, alice.displayName);
    assert.deepEqual(claims.groups, alice.groups);
    assert.equal(claims.appid, CLIENT_ID);
    assert.equal(Number(claims.exp) - Number(claims.iat), 3600);
    assert.ok(Math.abs(Number(claims.iat) - Date.now() / 1000) < 5);

    const id = verifyJwt(String(body.id_token), keys);
    assert.ok(id.ok);
    assert.equal(id.claims.aud, CLIENT_ID);
    assert.equal(id.claims.oid, alice.oid);
    assert.equal(id.claims.tid, demo.CONTOSO_TENANT);
    assert.equal(id.claims.nonce, undefined);
    assert.deepEqual(JSON.parse(Buffer.from(String(body.client_info), 'base64url').toString('utf8')), { uid: alice.oid, utid: demo.CONTOSO_TENANT });

    const again = await poll(code.device_code);
    assert.equal(again.status, 400);
    assert.equal(again.json().error, 'invalid_grant');
  });

  test('the URN grant type works too, and organizations gives the home tenant of whoever approves', async () => {
    const code = await startDeviceCode('organizations');
    await fixture.platform.completeDeviceLogin(code.user_code, 'carol@fabrikam.onmicrosoft.com');
    const granted = await poll(code.device_code, 'organizations', 'urn:ietf:params:oauth:grant-type:device_code');
    assert.equal(granted.status, 200, granted.text);
    const claims = decodeJwtClaims(String(granted.json().access_token));
    assert.equal(claims.tid, demo.FABRIKAM_TENANT);
    assert.equal(claims.iss, `${fixture.platform.url}/${demo.FABRIKAM_TENANT}/v2.0`);
  });

  test('an spn: scope gives the bare server id as audience', async () => {
    const scope = `spn:${demo.AKS_SERVER_APP_ID}/.default offline_access`;
    const code = await startDeviceCode(demo.CONTOSO_TENANT, scope);
    await fixture.platform.completeDeviceLogin(code.user_code, ALICE);
    const granted = await fixture.post(`/${demo.CONTOSO_TENANT}/oauth2/v2.0/token`, { grant_type: 'device_code', client_id: CLIENT_ID, device_code: code.device_code, scope });
    assert.equal(decodeJwtClaims(String(granted.json().access_token)).aud, demo.AKS_SERVER_APP_ID);
  });

  test('a tenant authority offers only its own users', async () => {
    const code = await startDeviceCode();
    await assert.rejects(fixture.platform.completeDeviceLogin(code.user_code, 'carol@fabrikam.onmicrosoft.com'), /does not offer carol@fabrikam/);
    assert.equal((await poll(code.device_code)).json().error, 'authorization_pending');
  });

  test('declining ends polling with authorization_declined', async () => {
    const code = await startDeviceCode();
    await fixture.platform.completeDeviceLogin(code.user_code, ALICE, 'decline');
    const declined = await poll(code.device_code);
    assert.equal(declined.status, 400);
    assert.equal(declined.json().error, 'authorization_declined');
  });

  test('an expired code is expired_token and can no longer be approved', async () => {
    fixture.platform.controls.deviceCodeLifetimeSeconds = 0.2;
    try {
      const code = await startDeviceCode();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await poll(code.device_code)).json().error, 'expired_token');
      await assert.rejects(fixture.platform.completeDeviceLogin(code.user_code, ALICE), /expired/);
    } finally {
      fixture.platform.controls.deviceCodeLifetimeSeconds = 900;
    }
  });

  test('an unknown device code is bad_verification_code', async () => {
    const response = await poll('not-a-device-code');
    assert.equal(response.json().error, 'bad_verification_code');
  });

  test('a blocked user is approved on the page but gets AADSTS53003 instead of tokens', async () => {
    const code = await startDeviceCode();
    await fixture.platform.completeDeviceLogin(code.user_code, 'mallory@contoso.onmicrosoft.com');
    const blocked = await poll(code.device_code);
    assert.equal(blocked.status, 400);
    assert.equal(blocked.json().error, 'invalid_grant');
    assert.deepEqual(blocked.json().error_codes, [53003]);
  });

  test('requireConsent turns approval into AADSTS65001 consent_required', async () => {
    const clientId = '5d1e2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';
    fixture.platform.controls.requireConsent(clientId);
    const code = await startDeviceCode(demo.CONTOSO_TENANT, SCOPE, clientId);
    await fixture.platform.completeDeviceLogin(code.user_code, ALICE);
    const response = await poll(code.device_code, demo.CONTOSO_TENANT, 'device_code', clientId);
    assert.equal(response.json().suberror, 'consent_required');
    assert.match(String(response.json().error_description), /^AADSTS65001: /);
  });

  test('a code polled by another client is refused', async () => {
    const code = await startDeviceCode();
    await fixture.platform.completeDeviceLogin(code.user_code, ALICE);
    const response = await poll(code.device_code, demo.CONTOSO_TENANT, 'device_code', '11111111-2222-4333-8444-555555555555');
    assert.equal(response.json().error, 'invalid_grant');
    assert.equal((await poll(code.device_code)).status, 200);
  });
});

describe('device-login page', () => {
  test('the entry page is an accessible form with a labelled code input and a Next button', async () => {
    const page = await fixture.get('/devicelogin');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.text, /<label for="otc">Code<\/label>/);
    assert.match(page.text, /<input id="otc" name="otc"/);
    assert.match(page.text, /<button type="submit">Next<\/button>/);
  });

  test('the account page names the app and offers Approve and Decline; codes are forgiving about case and dashes', async () => {
    const code = await startDeviceCode();
    const typed = `${code.user_code.slice(0, 4).toLowerCase()}-${code.user_code.slice(4)}`;
    const page = await fixture.post('/devicelogin', { otc: typed });
    assert.equal(page.status, 200);
    assert.match(page.text, /Azure Kubernetes Service AAD Client/);
    assert.match(page.text, />Approve<\/button>/);
    assert.match(page.text, />Decline<\/button>/);
    assert.match(page.text, /Alice Admin \(alice@contoso\.onmicrosoft\.com\)/);
    assert.doesNotMatch(page.text, /carol@fabrikam/);
  });

  test('a wrong code shows the form again with an alert', async () => {
    const page = await fixture.post('/devicelogin', { otc: 'ZZZZZZZZZ' });
    assert.equal(page.status, 400);
    assert.match(page.text, /role="alert"[^>]*>That code didn&#39;t work/);
  });
});
