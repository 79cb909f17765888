// Refresh tokens (rotation, revocation) and the fault controls: what a token keeper must survive.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyJwt } from '../../support/jwt';
import { createHash } from 'node:crypto';
import { demo, startIdentityPlatform } from '../../support/identity-platform';
import { driveDeviceLogin } from '../../support/identity-platform/device-login-driver';
import { decodeJwtClaims, httpsRequest, startFixture, type Fixture } from './fixture';

const CLIENT_ID = demo.AKS_CLIENT_APP_ID;
const SCOPE = `${demo.AKS_SERVER_APP_ID}/.default openid profile offline_access`;
const TOKEN_PATH = `/${demo.CONTOSO_TENANT}/oauth2/v2.0/token`;

let fixture: Fixture;
before(async () => {
  fixture = await startFixture();
});
after(() => fixture.close());

async function signIn(username: string, tenant = demo.CONTOSO_TENANT) {
  const code = (await fixture.post(`/${tenant}/oauth2/v2.0/devicecode`, { client_id: CLIENT_ID, scope: SCOPE })).json();
  await fixture.platform.completeDeviceLogin(String(code.user_code), username);
  const granted = await fixture.post(`/${tenant}/oauth2/v2.0/token`, { grant_type: 'device_code', client_id: CLIENT_ID, device_code: String(code.device_code) });
  assert.equal(granted.status, 200, granted.text);
  return granted.json() as { access_token: string; refresh_token: string; device_code?: string };
}

function refresh(refreshToken: string, path = TOKEN_PATH) {
  return fixture.post(path, { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: refreshToken, scope: SCOPE, client_info: '1' });
}

describe('refresh tokens', () => {
  test('a refresh returns fresh tokens and a new refresh token; the lifetime control applies', async () => {
    const first = await signIn('alice@contoso.onmicrosoft.com');
    fixture.platform.controls.tokenLifetimeSeconds = 120;
    try {
      const refreshed = await refresh(first.refresh_token);
      assert.equal(refreshed.status, 200, refreshed.text);
      const body = refreshed.json();
      assert.notEqual(body.refresh_token, first.refresh_token);
      assert.notEqual(body.access_token, first.access_token);
      assert.equal(body.expires_in, 120);
      const access = verifyJwt(String(body.access_token), fixture.signingKeyMap());
      assert.ok(access.ok);
      assert.equal(Number(access.claims.exp) - Number(access.claims.iat), 120);
      assert.equal(access.claims.upn, 'alice@contoso.onmicrosoft.com');
      assert.equal((await refresh(String(body.refresh_token))).status, 200);
    } finally {
      fixture.platform.controls.tokenLifetimeSeconds = 3600;
    }
  });

  test('like Entra, a used refresh token stays valid unless single-use is switched on', async () => {
    const first = await signIn('bob@contoso.onmicrosoft.com');
    assert.equal((await refresh(first.refresh_token)).status, 200);
    assert.equal((await refresh(first.refresh_token)).status, 200);
    fixture.platform.controls.singleUseRefreshTokens = true;
    try {
      const rotated = await refresh(first.refresh_token);
      assert.equal(rotated.status, 200);
      const reused = await refresh(first.refresh_token);
      assert.equal(reused.status, 400);
      assert.deepEqual(reused.json().error_codes, [70008]);
      assert.equal((await refresh(String(rotated.json().refresh_token))).status, 200);
    } finally {
      fixture.platform.controls.singleUseRefreshTokens = false;
    }
  });

  test('revoking one user fails only that user with invalid_grant AADSTS50173', async () => {
    const alice = await signIn('alice@contoso.onmicrosoft.com');
    const bob = await signIn('bob@contoso.onmicrosoft.com');
    fixture.platform.controls.revokeRefreshTokens('ALICE@contoso.onmicrosoft.com');
    const revoked = await refresh(alice.refresh_token);
    assert.equal(revoked.status, 400);
    assert.equal(revoked.json().error, 'invalid_grant');
    assert.deepEqual(revoked.json().error_codes, [50173]);
    assert.equal((await refresh(bob.refresh_token)).status, 200);
  });

  test('revoking everybody, an unknown refresh token, and a blocked user all fail', async () => {
    const carol = await signIn('carol@fabrikam.onmicrosoft.com', 'organizations');
    const refreshedThroughOrganizations = await refresh(carol.refresh_token, '/organizations/oauth2/v2.0/token');
    assert.equal(decodeJwtClaims(String(refreshedThroughOrganizations.json().access_token)).tid, demo.FABRIKAM_TENANT);
    const crossTenant = await refresh(carol.refresh_token, TOKEN_PATH);
    assert.deepEqual(crossTenant.json().error_codes, [50020]);

    const bob = await signIn('bob@contoso.onmicrosoft.com');
    const bobUser = fixture.platform.users.find((user) => user.username === 'bob@contoso.onmicrosoft.com')!;
    bobUser.blocked = true;
    try {
      assert.deepEqual((await refresh(bob.refresh_token)).json().error_codes, [53003]);
    } finally {
      bobUser.blocked = false;
    }
    fixture.platform.controls.revokeRefreshTokens();
    assert.deepEqual((await refresh(carol.refresh_token, '/organizations/oauth2/v2.0/token')).json().error_codes, [50173]);
    const unknown = await refresh('0.Anot-a-real-refresh-token');
    assert.deepEqual(unknown.json().error_codes, [70008]);
    assert.doesNotMatch(unknown.text, /not-a-real-refresh-token/, 'the error never echoes the token');
  });

  test('an unsupported grant type is AADSTS70003', async () => {
    const response = await fixture.post(TOKEN_PATH, { grant_type: 'password', client_id: CLIENT_ID });
    assert.equal(response.json().error, 'unsupported_grant_type');
  });
});

describe('fault controls', () => {
  test('5xx, temporarily_unavailable, invalid_grant and malformed each answer the next token request once', async () => {
    const { refresh_token: refreshToken } = await signIn('alice@contoso.onmicrosoft.com');

    fixture.platform.controls.failNext('5xx');
    const serverError = await refresh(refreshToken);
    assert.equal(serverError.status, 500);
    assert.equal(serverError.json().error, 'server_error');

    fixture.platform.controls.failNext('temporarily_unavailable');
    const unavailable = await refresh(refreshToken);
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.json().error, 'temporarily_unavailable');
    assert.equal(unavailable.headers['retry-after'], '1');

    fixture.platform.controls.failNext('invalid_grant');
    const invalid = await refresh(refreshToken);
    assert.equal(invalid.status, 400);
    assert.equal(invalid.json().error, 'invalid_grant');

    fixture.platform.controls.failNext('malformed');
    const malformed = await refresh(refreshToken);
    assert.equal(malformed.status, 200);
    assert.throws(() => malformed.json(), SyntaxError);

    assert.equal((await refresh(refreshToken)).status, 200, 'each failure is used up by one request');
  });

  test('reset drops the connection without an answer; count repeats the failure', async () => {
    const { refresh_token: refreshToken } = await signIn('alice@contoso.onmicrosoft.com');
    fixture.platform.controls.failNext('reset', 2);
    await assert.rejects(refresh(refreshToken), (error: NodeJS.ErrnoException) => error.code === 'ECONNRESET' || /socket hang up/.test(error.message));
    await assert.rejects(refresh(refreshToken));
    assert.equal((await refresh(refreshToken)).status, 200);
    const resets = fixture.platform.requests.filter((entry) => entry.status === 0);
    assert.equal(resets.length, 2);
  });

  test('a failure aimed at devicecode leaves the token endpoint alone; any hits discovery too', async () => {
    const { refresh_token: refreshToken } = await signIn('alice@contoso.onmicrosoft.com');
    fixture.platform.controls.failNext('5xx', 1, 'devicecode');
    assert.equal((await refresh(refreshToken)).status, 200);
    assert.equal((await fixture.post(`/${demo.CONTOSO_TENANT}/oauth2/v2.0/devicecode`, { client_id: CLIENT_ID, scope: SCOPE })).status, 500);
    fixture.platform.controls.failNext('temporarily_unavailable', 1, 'any');
    assert.equal((await fixture.get(`/${demo.CONTOSO_TENANT}/v2.0/.well-known/openid-configuration`)).status, 503);
    assert.equal((await fixture.get(`/${demo.CONTOSO_TENANT}/v2.0/.well-known/openid-configuration`)).status, 200);
  });

  test('latency delays every response by at least the set time', async () => {
    fixture.platform.controls.latencyMs = 250;
    try {
      const started = performance.now();
      assert.equal((await fixture.get('/devicelogin')).status, 200);
      assert.ok(performance.now() - started >= 245, `took ${performance.now() - started} ms`);
    } finally {
      fixture.platform.controls.latencyMs = 0;
    }
  });
});

describe('request log and out-of-process controls', () => {
  test('the log records method, path, grant type, parameter names and status, and never a token or code', async () => {
    const tokens = await signIn('alice@contoso.onmicrosoft.com');
    const refreshed = (await refresh(tokens.refresh_token)).json();
    const entries = fixture.platform.requests;
    const lastRefresh = entries.filter((entry) => entry.grantType === 'refresh_token').at(-1);
    assert.deepEqual(
      { ...lastRefresh, at: 0 },
      { method: 'POST', path: TOKEN_PATH, grantType: 'refresh_token', parameters: ['grant_type', 'client_id', 'refresh_token', 'scope', 'client_info'], status: 200, at: 0 },
    );
    assert.ok(entries.some((entry) => entry.grantType === 'device_code' && entry.status === 200));
    assert.ok(entries.some((entry) => entry.path === '/devicelogin/decide' && entry.method === 'POST'));
    const logged = JSON.stringify(entries);
    for (const secret of [tokens.access_token, tokens.refresh_token, String(refreshed.refresh_token)]) assert.ok(!logged.includes(secret));
    assert.doesNotMatch(logged, /eyJ/);
  });

  test('/_test endpoints patch controls, list codes, approve, revoke and return the log', async () => {
    const patched = await fixture.postJson('/_test/controls', { pollIntervalSeconds: 0.5, failNext: { kind: '5xx', endpoint: 'devicecode' } });
    assert.equal(patched.status, 200);
    assert.equal(patched.json().pollIntervalSeconds, 0.5);
    assert.equal(fixture.platform.controls.pollIntervalSeconds, 0.5);
    assert.equal((await fixture.post(`/${demo.CONTOSO_TENANT}/oauth2/v2.0/devicecode`, { client_id: CLIENT_ID, scope: SCOPE })).status, 500);
    assert.equal((await fixture.postJson('/_test/controls', { latencyMs: -1 })).status, 400);

    const code = (await fixture.post(`/${demo.CONTOSO_TENANT}/oauth2/v2.0/devicecode`, { client_id: CLIENT_ID, scope: SCOPE })).json();
    assert.equal(code.interval, 0.5);
    const listed = (await fixture.get('/_test/device-codes')).json() as unknown as { userCode: string; state: string }[];
    assert.deepEqual(listed.at(-1)?.userCode, code.user_code);
    assert.doesNotMatch(JSON.stringify(listed), new RegExp(String(code.device_code)));
    assert.equal((await fixture.postJson('/_test/device-login', { userCode: code.user_code, username: 'bob@contoso.onmicrosoft.com' })).status, 200);
    const granted = await fixture.post(TOKEN_PATH, { grant_type: 'device_code', client_id: CLIENT_ID, device_code: String(code.device_code) });
    assert.equal(granted.status, 200);

    assert.equal((await fixture.postJson('/_test/revoke', { username: 'bob@contoso.onmicrosoft.com' })).status, 200);
    assert.deepEqual((await refresh(String(granted.json().refresh_token))).json().error_codes, [50173]);

    const log = (await fixture.get('/_test/requests')).json() as unknown as { path: string }[];
    assert.ok(log.length > 0);
    assert.ok(log.every((entry) => !entry.path.startsWith('/_test/')), 'test-control calls stay out of the protocol log');
    fixture.platform.controls.pollIntervalSeconds = 1;
  });

  test('without a CA the driver pins the server certificate: it completes against this server and refuses another', async () => {
    const pinned = await startIdentityPlatform({ tls: fixture.ca.serverCertificate });
    try {
      pinned.controls.pollIntervalSeconds = 1;
      const code = (await httpsRequest(`${pinned.url}/${demo.CONTOSO_TENANT}/oauth2/v2.0/devicecode`, fixture.ca.caPem, 'POST', new URLSearchParams({ client_id: CLIENT_ID, scope: SCOPE }).toString())).json();
      await pinned.completeDeviceLogin(String(code.user_code), 'alice@contoso.onmicrosoft.com');
      assert.equal(pinned.deviceCodes().at(-1)?.state, 'approved');
      const wrongPin = createHash('sha256').update('another certificate').digest('hex');
      await assert.rejects(
        driveDeviceLogin(pinned.deviceLoginUrl, { pinnedFingerprint256: wrongPin }, String(code.user_code), 'alice@contoso.onmicrosoft.com', 'approve'),
        /unexpected certificate/,
      );
    } finally {
      await pinned.close();
    }
  });
});
