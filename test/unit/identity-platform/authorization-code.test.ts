// The authorization-code flow over plain HTTPS, hop by hop as a browser sees it: which requests the
// /authorize endpoint refuses on its own page and which it sends back to the app, the three response
// modes, PKCE with S256 and plain, prompt and login_hint, the browser session, and the code grant.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { verifyJwt } from '../../support/jwt';
import { createBrowserProfile, demo, isLoopbackAddress } from '../../support/identity-platform';
import { decodeJwtClaims, startFixture, type Fixture } from './fixture';

const CLIENT_ID = demo.AKS_CLIENT_APP_ID;
const SCOPE = `${demo.AKS_SERVER_APP_ID}/.default openid profile offline_access`;
const REDIRECT_URI = 'http://localhost:51234';
const ALICE = 'alice@contoso.onmicrosoft.com';

let fixture: Fixture;
before(async () => {
  fixture = await startFixture();
});
after(() => fixture.close());

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(params: Record<string, string | undefined>, tenant: string = demo.CONTOSO_TENANT): string {
  const url = new URL(`${fixture.platform.url}/${tenant}/oauth2/v2.0/authorize`);
  const defaults = { client_id: CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT_URI, scope: SCOPE, state: 's-1', code_challenge_method: 'S256' };
  for (const [name, value] of Object.entries({ ...defaults, ...params })) if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

const pathOf = (url: string) => url.slice(fixture.platform.url.length);

function redeem(code: string, verifier: string | undefined, redirectUri = REDIRECT_URI, clientId = CLIENT_ID) {
  return fixture.post(`/${demo.CONTOSO_TENANT}/oauth2/v2.0/token`, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    redirect_uri: redirectUri,
    scope: SCOPE,
    ...(verifier !== undefined ? { code_verifier: verifier } : {}),
  });
}

/** Completes /authorize without delivering, returning what would reach the app. */
function authorize(params: Record<string, string | undefined>, options: { username?: string; decision?: 'accept' | 'cancel'; browser?: ReturnType<typeof createBrowserProfile> } = {}) {
  return fixture.platform.completeAuthorization(authorizeUrl(params), { deliver: false, browser: createBrowserProfile(), ...options });
}

describe('the authorize endpoint', () => {
  test('the sign-in page is an accessible form: the app, the accounts of the tenant in a fieldset, Accept and Cancel', async () => {
    const { challenge } = pkce();
    const page = await fixture.get(pathOf(authorizeUrl({ code_challenge: challenge, login_hint: 'BOB@contoso.onmicrosoft.com' })));
    assert.equal(page.status, 200);
    assert.match(page.text, /<h1>Sign in to Azure Kubernetes Service AAD Client<\/h1>/);
    assert.match(page.text, /<fieldset>\n<legend>Pick an account<\/legend>/);
    assert.match(page.text, /value="bob@contoso\.onmicrosoft\.com" checked> Bob Developer/, 'login_hint pre-selects, whatever its case');
    assert.doesNotMatch(page.text, /carol@fabrikam/);
    assert.match(page.text, /<button type="submit" name="decision" value="accept">Accept<\/button>/);
    assert.match(page.text, /<button type="submit" name="decision" value="cancel">Cancel<\/button>/);
    assert.match(page.text, /sends you back to\n<span data-redirect-origin="true">http:\/\/localhost:51234<\/span>/);
  });

  test('requests with no safe place to go back to get an error page and no redirect', async () => {
    const { challenge } = pkce();
    const cases: [Record<string, string | undefined>, string, RegExp][] = [
      [{ client_id: undefined }, demo.CONTOSO_TENANT, /^AADSTS900144: .*'client_id'/],
      [{ client_id: 'not-a-guid' }, demo.CONTOSO_TENANT, /^AADSTS700016: /],
      [{ redirect_uri: undefined }, demo.CONTOSO_TENANT, /^AADSTS900144: .*'redirect_uri'/],
      [{ redirect_uri: 'https://localhost:51234/' }, demo.CONTOSO_TENANT, /^AADSTS50011: /],
      [{ redirect_uri: 'http://localhost:51234/#fragment' }, demo.CONTOSO_TENANT, /^AADSTS50011: /],
      [{}, '00000000-1111-2222-3333-444444444444', /^AADSTS90002: /],
    ];
    for (const [params, tenant, message] of cases) {
      const outcome = await fixture.platform.completeAuthorization(authorizeUrl({ code_challenge: challenge, ...params }, tenant), { deliver: false });
      assert.equal(outcome.kind, 'error-page', JSON.stringify(params));
      assert.match(outcome.errorMessage ?? '', message);
    }
  });

  test('malformed requests from a good client go back to the redirect URI as OAuth errors, with the state', async () => {
    const { challenge } = pkce();
    const cases: [Record<string, string | undefined>, string, number][] = [
      [{ code_challenge: undefined }, 'invalid_request', 900144],
      [{ code_challenge: challenge, code_challenge_method: 'S512' }, 'invalid_request', 90023],
      [{ code_challenge: 'too-short' }, 'invalid_request', 501491],
      [{ code_challenge: challenge, response_type: 'token' }, 'unsupported_response_type', 700054],
      [{ code_challenge: challenge, response_type: undefined }, 'invalid_request', 900144],
      [{ code_challenge: challenge, scope: undefined }, 'invalid_request', 900144],
      [{ code_challenge: challenge, scope: 'https://a.example/.default https://b.example/.default' }, 'invalid_request', 28000],
      [{ code_challenge: challenge, prompt: 'always' }, 'invalid_request', 90023],
      [{ code_challenge: challenge, response_mode: 'web_message' }, 'invalid_request', 900144],
    ];
    for (const [params, error, code] of cases) {
      const outcome = await authorize(params);
      assert.equal(outcome.kind, 'redirected', JSON.stringify(params));
      assert.equal(outcome.pageShown, false);
      assert.equal(outcome.responseMode, 'query');
      assert.equal(outcome.params.error, error, JSON.stringify(params));
      assert.match(outcome.params.error_description ?? '', new RegExp(`^AADSTS${code}: `));
      assert.equal(outcome.params.state, 's-1');
      assert.equal(outcome.params.code, undefined);
    }
  });

  test('query answers with a 302 to the redirect URI, fragment puts the answer after #, form_post in a self-submitting form', async () => {
    const { challenge } = pkce();
    const query = await authorize({ code_challenge: challenge }, { username: ALICE });
    assert.equal(query.responseMode, 'query');
    assert.equal(query.redirectUri, `${REDIRECT_URI}/`);
    assert.deepEqual(Object.keys(query.params).sort(), ['code', 'session_state', 'state']);
    const fragment = await authorize({ code_challenge: challenge, response_mode: 'fragment', client_info: '1' }, { username: ALICE });
    assert.equal(fragment.responseMode, 'fragment');
    assert.deepEqual(Object.keys(fragment.params).sort(), ['client_info', 'code', 'session_state', 'state']);
    const form = await authorize({ code_challenge: challenge, response_mode: 'form_post' }, { username: ALICE });
    assert.equal(form.responseMode, 'form_post');
    assert.equal(form.redirectUri, REDIRECT_URI);
    assert.ok(form.params.code);

    // prompt=none without a session still answers by form_post: the page is the same for a code or an error.
    const raw = await fixture.get(pathOf(authorizeUrl({ code_challenge: challenge, prompt: 'none', response_mode: 'form_post' })));
    assert.match(raw.text, /<form method="post" name="hiddenform" action="http:\/\/localhost:51234" data-form-post="true">/);
    assert.match(raw.text, /<script>document\.forms\[0\]\.submit\(\);<\/script>/);
    assert.match(raw.text, /<noscript>.*<button type="submit">Submit<\/button><\/noscript>/);
  });

  test('Cancel goes back as access_denied AADSTS65004 with error_subcode cancel', async () => {
    const outcome = await authorize({ code_challenge: pkce().challenge }, { decision: 'cancel' });
    assert.equal(outcome.params.error, 'access_denied');
    assert.equal(outcome.params.error_subcode, 'cancel');
    assert.match(outcome.params.error_description ?? '', /^AADSTS65004: User declined to consent to access the app\./);
    assert.equal(outcome.params.state, 's-1');
  });

  test('the browser session skips the page unless prompt asks for it; prompt=none needs a session', async () => {
    const browser = createBrowserProfile();
    const { challenge } = pkce();
    const none = await authorize({ code_challenge: challenge, prompt: 'none' }, { browser });
    assert.equal(none.params.error, 'login_required');
    assert.match(none.params.error_description ?? '', /^AADSTS50058: /);

    const first = await authorize({ code_challenge: challenge }, { browser, username: 'bob@contoso.onmicrosoft.com' });
    assert.equal(first.pageShown, true);
    assert.ok(browser.cookies.has('ESTSAUTH'));
    for (const prompt of [undefined, 'none']) {
      const again = await authorize({ code_challenge: challenge, prompt }, { browser });
      assert.equal(again.pageShown, false, `prompt=${prompt}`);
      assert.ok(again.params.code);
    }
    for (const prompt of ['login', 'select_account', 'consent']) {
      const asked = await authorize({ code_challenge: challenge, prompt }, { browser });
      assert.equal(asked.pageShown, true, `prompt=${prompt}`);
    }
    // A hint naming someone this browser has not signed in as shows the page, pre-selecting them.
    const other = await authorize({ code_challenge: challenge, login_hint: ALICE }, { browser });
    assert.equal(other.pageShown, true);
    assert.equal(fixture.platform.authorizationCodes().at(-1)?.username, ALICE);
    // Two accounts in the session and no hint: prompt=none cannot choose.
    const ambiguous = await authorize({ code_challenge: challenge, prompt: 'none' }, { browser });
    assert.equal(ambiguous.params.error, 'interaction_required');
    // Another tenant's authorize does not see this tenant's accounts.
    const fabrikam = await fixture.platform.completeAuthorization(authorizeUrl({ code_challenge: challenge, prompt: 'none' }, demo.FABRIKAM_TENANT), { browser, deliver: false });
    assert.equal(fabrikam.params.error, 'login_required');

    fixture.platform.controls.endBrowserSessions();
    assert.equal((await authorize({ code_challenge: challenge, prompt: 'none' }, { browser })).params.error, 'login_required');
  });

  test('a client that needs consent is sent back consent_required after Accept', async () => {
    const clientId = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    fixture.platform.controls.requireConsent(clientId);
    const outcome = await authorize({ code_challenge: pkce().challenge, client_id: clientId }, { username: ALICE });
    assert.equal(outcome.params.error, 'consent_required');
    assert.match(outcome.params.error_description ?? '', new RegExp(`^AADSTS65001: The user or administrator has not consented to use the application with ID '${clientId}'`));
  });

  test('a registered redirect URI with a path is accepted on any loopback port, others are not', async () => {
    const clientId = '8b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e';
    const { challenge } = pkce();
    const page = (redirectUri: string) => authorize({ code_challenge: challenge, client_id: clientId, redirect_uri: redirectUri });
    assert.equal((await page('http://127.0.0.1:40001/callback')).kind, 'error-page');
    fixture.platform.controls.registerRedirectUri(clientId, 'http://127.0.0.1/callback');
    assert.equal((await page('http://127.0.0.1:40001/callback')).pageShown, true);
    assert.equal((await page('http://127.0.0.1:40002/callback?from=test')).kind, 'error-page');
    assert.equal((await page('http://127.0.0.1:40001/other')).kind, 'error-page');
  });
});

describe('the authorization_code grant', () => {
  test('S256: the code redeems once for tokens like the other grants issue, with the nonce in the id token', async () => {
    const { verifier, challenge } = pkce();
    const outcome = await authorize({ code_challenge: challenge, nonce: 'n-0S6_WzA2Mj', client_info: '1' }, { username: ALICE });
    assert.deepEqual(JSON.parse(Buffer.from(outcome.params.client_info ?? '', 'base64url').toString('utf8')), {
      uid: fixture.platform.users.find((user) => user.username === ALICE)!.oid,
      utid: demo.CONTOSO_TENANT,
    });
    const granted = await redeem(outcome.params.code!, verifier);
    assert.equal(granted.status, 200, granted.text);
    const body = granted.json();
    for (const field of ['access_token', 'refresh_token', 'id_token', 'client_info']) assert.equal(typeof body[field], 'string', field);
    assert.equal(body.token_type, 'Bearer');
    const access = verifyJwt(String(body.access_token), fixture.signingKeyMap());
    assert.ok(access.ok);
    assert.equal(access.claims.aud, demo.AKS_SERVER_APP_ID);
    assert.equal(access.claims.upn, ALICE);
    assert.equal(decodeJwtClaims(String(body.id_token)).nonce, 'n-0S6_WzA2Mj');
    assert.deepEqual(fixture.platform.authorizationCodes().at(-1), {
      clientId: CLIENT_ID,
      username: ALICE,
      redirectUri: REDIRECT_URI,
      scope: SCOPE,
      codeChallengeMethod: 'S256',
      expiresAt: fixture.platform.authorizationCodes().at(-1)!.expiresAt,
      redeemed: true,
    });
    const reused = await redeem(outcome.params.code!, verifier);
    assert.deepEqual(reused.json().error_codes, [54005]);
    assert.equal(fixture.platform.requests.at(-1)?.grantType, 'authorization_code');
  });

  test('plain (also when no method is named): the challenge is the verifier', async () => {
    for (const method of ['plain', undefined]) {
      const { verifier } = pkce();
      const outcome = await authorize({ code_challenge: verifier, code_challenge_method: method }, { username: ALICE });
      assert.equal(fixture.platform.authorizationCodes().at(-1)?.codeChallengeMethod, 'plain');
      const wrong = await redeem(outcome.params.code!, createHash('sha256').update(verifier).digest('base64url'));
      assert.deepEqual(wrong.json().error_codes, [501481], 'an S256 verifier for a plain challenge');
      assert.equal((await redeem(outcome.params.code!, verifier)).status, 200);
    }
  });

  test('refusals: unknown code, another client, missing redirect_uri, and the checks in Entra\'s order', async () => {
    const { verifier, challenge } = pkce();
    const outcome = await authorize({ code_challenge: challenge }, { username: ALICE });
    const code = outcome.params.code!;
    const unknown = await redeem('1.Anot-a-code', verifier);
    assert.equal(unknown.json().error, 'invalid_grant');
    assert.deepEqual(unknown.json().error_codes, [9002313]);
    const otherClient = await redeem(code, verifier, REDIRECT_URI, '11111111-2222-4333-8444-555555555555');
    assert.equal(otherClient.json().error, 'invalid_grant');
    const noRedirect = await fixture.post(`/${demo.CONTOSO_TENANT}/oauth2/v2.0/token`, { grant_type: 'authorization_code', client_id: CLIENT_ID, code, code_verifier: verifier });
    assert.deepEqual(noRedirect.json().error_codes, [900144]);
    assert.deepEqual((await redeem(code, verifier, 'http://localhost:51235')).json().error_codes, [500112]);
    assert.deepEqual((await redeem(code, undefined)).json().error_codes, [50148]);
    assert.deepEqual((await redeem(code, pkce().verifier)).json().error_codes, [501481]);
    assert.equal((await redeem(code, verifier)).status, 200, 'failed attempts do not use the code up');
  });

  test('a blocked user gets a code but no tokens: AADSTS53003', async () => {
    const { verifier, challenge } = pkce();
    const outcome = await authorize({ code_challenge: challenge }, { username: 'mallory@contoso.onmicrosoft.com' });
    const refused = await redeem(outcome.params.code!, verifier);
    assert.deepEqual(refused.json().error_codes, [53003]);
  });
});

describe('device code blocked by a tenant policy', () => {
  async function deviceCode(tenant: string, username: string) {
    const started = (await fixture.post(`/${tenant}/oauth2/v2.0/devicecode`, { client_id: CLIENT_ID, scope: SCOPE })).json();
    await fixture.platform.completeDeviceLogin(String(started.user_code), username);
    return fixture.post(`/${tenant}/oauth2/v2.0/token`, { grant_type: 'device_code', client_id: CLIENT_ID, device_code: String(started.device_code) });
  }

  test('Northwind refuses device-code tokens with AADSTS53003 and a claims challenge naming the policy', async () => {
    for (const tenant of [demo.NORTHWIND_TENANT, 'northwind.onmicrosoft.com', 'organizations']) {
      const refused = await deviceCode(tenant, 'nina@northwind.onmicrosoft.com');
      assert.equal(refused.status, 400);
      const body = refused.json();
      assert.equal(body.error, 'invalid_grant');
      assert.deepEqual(body.error_codes, [53003]);
      assert.equal(body.suberror, 'message_only');
      assert.match(String(body.error_description), /^AADSTS53003: Access has been blocked by Conditional Access policies\. The access policy does not allow token issuance\. Trace ID: /);
      assert.equal(JSON.parse(String(body.claims)).access_token.capolids.values[0], demo.BLOCK_DEVICE_CODE_POLICY_ID);
    }
  });

  test('the switch works per tenant, from code and from the JSON controls', async () => {
    fixture.platform.controls.blockDeviceCode(demo.CONTOSO_TENANT);
    assert.deepEqual((await deviceCode(demo.CONTOSO_TENANT, ALICE)).json().error_codes, [53003]);
    assert.equal((await deviceCode(demo.FABRIKAM_TENANT, 'carol@fabrikam.onmicrosoft.com')).status, 200);
    fixture.platform.controls.allowDeviceCode(demo.CONTOSO_TENANT);
    assert.equal((await deviceCode(demo.CONTOSO_TENANT, ALICE)).status, 200);

    assert.equal((await fixture.postJson('/_test/controls', { blockDeviceCode: [demo.FABRIKAM_TENANT] })).status, 200);
    assert.deepEqual((await deviceCode(demo.FABRIKAM_TENANT, 'carol@fabrikam.onmicrosoft.com')).json().error_codes, [53003]);
    assert.equal((await fixture.postJson('/_test/controls', { allowDeviceCode: demo.FABRIKAM_TENANT })).status, 200);
    assert.equal((await deviceCode(demo.FABRIKAM_TENANT, 'carol@fabrikam.onmicrosoft.com')).status, 200);
  });
});

describe('test controls for the code flow', () => {
  test('the JSON controls set the code lifetime and register redirect URIs; /_test/authorize completes a sign-in without handing out the code', async () => {
    const patched = await fixture.postJson('/_test/controls', {
      authorizationCodeLifetimeSeconds: 30,
      registerRedirectUri: { clientId: CLIENT_ID, redirectUri: 'http://127.0.0.1/done' },
    });
    assert.equal(patched.json().authorizationCodeLifetimeSeconds, 30);
    const url = authorizeUrl({ code_challenge: pkce().challenge, redirect_uri: 'http://127.0.0.1:1/done' });
    const completed = await fixture.postJson('/_test/authorize', { url, username: ALICE });
    assert.equal(completed.status, 200, completed.text);
    const outcome = completed.json() as { kind: string; params: Record<string, string>; delivered: { status: number; body: string } };
    assert.equal(outcome.kind, 'redirected');
    assert.deepEqual(outcome.delivered, { status: 0, body: 'connect ECONNREFUSED 127.0.0.1:1' }, 'nothing listens on port 1');
    assert.equal(outcome.params.code, '(delivered)');
    const issued = fixture.platform.authorizationCodes().at(-1)!;
    assert.ok(Math.abs(issued.expiresAt - Date.now() - 30_000) < 5000);
    assert.equal((await fixture.postJson('/_test/controls', { authorizationCodeLifetimeSeconds: 600 })).status, 200);
  });

  test('requests to /authorize are recorded with their parameter names only', async () => {
    await authorize({ code_challenge: pkce().challenge, login_hint: ALICE }, { username: ALICE });
    const entry = [...fixture.platform.requests].reverse().find((request) => request.path.endsWith('/oauth2/v2.0/authorize'));
    assert.deepEqual(entry?.parameters, ['client_id', 'response_type', 'redirect_uri', 'scope', 'state', 'code_challenge_method', 'code_challenge', 'login_hint']);
    assert.equal(entry?.status, 200);
    assert.equal(fixture.platform.requests.at(-1)?.path, `/${demo.CONTOSO_TENANT}/login`);
  });

  test('only loopback clients may use the controls', () => {
    for (const address of ['127.0.0.1', '127.0.0.2', '127.255.0.9', '::1', '::ffff:127.0.0.2']) assert.equal(isLoopbackAddress(address), true, address);
    for (const address of ['10.0.0.1', '192.168.1.10', '::ffff:10.0.0.1', '128.0.0.1', '::2', '']) assert.equal(isLoopbackAddress(address), false, address);
  });
});
