// Real @azure/msal-node 7.2.3 through the authorization-code flow with PKCE against the double served on
// 127.0.0.2: its own interactive flow (MSAL's loopback listener, form_post), the shape the product uses for
// a port it controls (getAuthCodeUrl + its own listener + acquireTokenByCode), every refusal reaching MSAL
// as the OAuth error and AADSTS code Entra sends, and device code refused by a tenant's policy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError, CryptoProvider, PublicClientApplication, ServerError, type AuthenticationResult } from '@azure/msal-node';
import { verifyJwt } from '../../support/jwt';
import { createBrowserProfile, demo, type AuthorizeOutcome } from '../../support/identity-platform';
import { caTrustingNetworkClient, startFixture, type FailedExchange, type Fixture } from './fixture';

const SCOPES = [`${demo.AKS_SERVER_APP_ID}/.default`];
const ALICE = 'alice@contoso.onmicrosoft.com';
const BOB = 'bob@contoso.onmicrosoft.com';

let fixture: Fixture;
before(async () => {
  fixture = await startFixture({ host: '127.0.0.2' });
});
after(() => fixture.close());

function msal(options: { clientId?: string; tenant?: string; failures?: FailedExchange[] } = {}): PublicClientApplication {
  const { platform } = fixture;
  return new PublicClientApplication({
    auth: {
      clientId: options.clientId ?? demo.AKS_CLIENT_APP_ID,
      authority: `${platform.url}/${options.tenant ?? demo.CONTOSO_TENANT}`,
      // host:port, or MSAL asks login.microsoftonline.com for instance metadata.
      knownAuthorities: [new URL(platform.url).host],
    },
    system: { networkClient: caTrustingNetworkClient(fixture.ca.caPem, options.failures) },
  });
}

const requestsTo = (suffix: string) => fixture.platform.requests.filter((entry) => entry.path.endsWith(suffix));

/** The AADSTS number and OAuth error an MSAL error carries, whichever field MSAL kept them in. */
function oauthError(error: unknown): { errorCode: string; aadsts: number | undefined } {
  assert.ok(error instanceof AuthError, `an MSAL AuthError, not ${String(error)}`);
  const fromNumber = error instanceof ServerError && error.errorNo !== undefined ? Number(error.errorNo) : undefined;
  const fromText = /AADSTS(\d+)/.exec(error.errorMessage)?.[1];
  return { errorCode: error.errorCode, aadsts: fromNumber ?? (fromText ? Number(fromText) : undefined) };
}

/** A redirect target of the product's kind: a loopback listener that takes the code from the query. */
async function startListener(): Promise<{ redirectUri: string; received: Promise<Record<string, string>>; close(): Promise<void> }> {
  let deliver: (params: Record<string, string>) => void = () => undefined;
  const received = new Promise<Record<string, string>>((resolve) => (deliver = resolve));
  const server: Server = createServer((req, res) => {
    const params = Object.fromEntries(new URL(req.url ?? '/', 'http://127.0.0.1').searchParams);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this tab.');
    if (params.code || params.error) deliver(params);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    redirectUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One code obtained the product's way, ready to redeem. */
async function obtainCode(app: PublicClientApplication, options: { loginHint?: string } = {}) {
  const listener = await startListener();
  try {
    const pkce = await new CryptoProvider().generatePkceCodes();
    const url = await app.getAuthCodeUrl({
      scopes: SCOPES,
      redirectUri: listener.redirectUri,
      codeChallenge: pkce.challenge,
      codeChallengeMethod: 'S256',
      state: 'product-state-1',
      loginHint: options.loginHint,
    });
    const outcome = await fixture.platform.completeAuthorization(url, { browser: createBrowserProfile() });
    const params = await listener.received;
    return { url, outcome, params, pkce, redirectUri: listener.redirectUri };
  } finally {
    await listener.close();
  }
}

describe("MSAL's own interactive flow", () => {
  test('acquireTokenInteractive signs in through the page and form_post, then acquireTokenSilent serves from its cache', { timeout: 30_000 }, async () => {
    const app = msal();
    let authorizeUrl = '';
    let outcome: AuthorizeOutcome | undefined;
    const result = await app.acquireTokenInteractive({
      scopes: SCOPES,
      successTemplate: 'Signed in to the test platform.',
      errorTemplate: 'Sign-in failed.',
      openBrowser: async (url) => {
        authorizeUrl = url;
        outcome = await fixture.platform.completeAuthorization(url, { username: ALICE });
      },
    });

    // What msal-node 7.2.3 asks /authorize for.
    const query = new URL(authorizeUrl).searchParams;
    assert.equal(new URL(authorizeUrl).origin, fixture.platform.url);
    assert.equal(query.get('response_mode'), 'form_post');
    assert.equal(query.get('response_type'), 'code');
    assert.equal(query.get('code_challenge_method'), 'S256');
    assert.match(query.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(query.get('redirect_uri') ?? '', /^http:\/\/localhost:\d+$/);
    assert.equal(query.get('client_info'), '1');
    assert.equal(query.get('nonce'), null);
    assert.equal(query.get('prompt'), null);

    assert.ok(outcome);
    assert.equal(outcome.pageShown, true);
    assert.equal(outcome.responseMode, 'form_post');
    assert.deepEqual(outcome.delivered, { status: 200, body: 'Signed in to the test platform.' });

    assert.equal(result.account?.username, ALICE);
    assert.equal(result.tenantId, demo.CONTOSO_TENANT);
    const access = verifyJwt(result.accessToken, fixture.signingKeyMap());
    assert.ok(access.ok);
    assert.equal(access.claims.aud, demo.AKS_SERVER_APP_ID);
    assert.equal(access.claims.azp, demo.AKS_CLIENT_APP_ID);

    const redemption = requestsTo('/oauth2/v2.0/token').at(-1);
    assert.equal(redemption?.grantType, 'authorization_code');
    assert.equal(redemption?.status, 200);
    for (const name of ['client_id', 'scope', 'redirect_uri', 'code', 'code_verifier', 'grant_type', 'client_info']) {
      assert.ok(redemption?.parameters?.includes(name), `the code redemption sends ${name} (sent: ${redemption?.parameters?.join(', ')})`);
    }

    const tokenCalls = requestsTo('/oauth2/v2.0/token').length;
    const cached = await app.acquireTokenSilent({ account: result.account!, scopes: SCOPES });
    assert.equal(cached.accessToken, result.accessToken, 'served from the cache');
    assert.equal(requestsTo('/oauth2/v2.0/token').length, tokenCalls);
    const refreshed = await app.acquireTokenSilent({ account: result.account!, scopes: SCOPES, forceRefresh: true });
    assert.notEqual(refreshed.accessToken, result.accessToken);
    assert.equal(requestsTo('/oauth2/v2.0/token').at(-1)?.grantType, 'refresh_token');
  });

  test('a second interactive sign-in in the same browser completes without the page (single sign-on)', { timeout: 30_000 }, async () => {
    const browser = createBrowserProfile();
    const first = await msal().acquireTokenInteractive({
      scopes: SCOPES,
      openBrowser: async (url) => void (await fixture.platform.completeAuthorization(url, { username: BOB, browser })),
    });
    assert.equal(first.account?.username, BOB);
    let second: AuthorizeOutcome | undefined;
    const again = await msal().acquireTokenInteractive({
      scopes: SCOPES,
      openBrowser: async (url) => void (second = await fixture.platform.completeAuthorization(url, { browser })),
    });
    assert.equal(second?.pageShown, false, 'the session answered without a click');
    assert.equal(again.account?.username, BOB);
  });

  test('Cancel on the page reaches MSAL as access_denied AADSTS65004', { timeout: 30_000 }, async () => {
    await assert.rejects(
      msal().acquireTokenInteractive({
        scopes: SCOPES,
        openBrowser: async (url) => void (await fixture.platform.completeAuthorization(url, { decision: 'cancel', browser: createBrowserProfile() })),
      }),
      (error: unknown) => {
        assert.deepEqual(oauthError(error), { errorCode: 'access_denied', aadsts: 65004 });
        return true;
      },
    );
  });

  test('prompt=none without a session is login_required AADSTS50058', { timeout: 30_000 }, async () => {
    await assert.rejects(
      msal().acquireTokenInteractive({
        scopes: SCOPES,
        prompt: 'none',
        openBrowser: async (url) => void (await fixture.platform.completeAuthorization(url, { browser: createBrowserProfile() })),
      }),
      (error: unknown) => {
        assert.deepEqual(oauthError(error), { errorCode: 'login_required', aadsts: 50058 });
        return true;
      },
    );
  });

  test('a client that needs consent is sent back consent_required AADSTS65001', { timeout: 30_000 }, async () => {
    const clientId = '6e2f3a4b-5c6d-4e7f-8a9b-1c2d3e4f5a6b';
    fixture.platform.controls.requireConsent(clientId);
    await assert.rejects(
      msal({ clientId }).acquireTokenInteractive({
        scopes: SCOPES,
        openBrowser: async (url) => void (await fixture.platform.completeAuthorization(url, { username: ALICE, browser: createBrowserProfile() })),
      }),
      (error: unknown) => {
        assert.deepEqual(oauthError(error), { errorCode: 'consent_required', aadsts: 65001 });
        return true;
      },
    );
  });
});

describe('getAuthCodeUrl + a listener of our own + acquireTokenByCode', () => {
  test('signs in with the account login_hint pre-selects, and the cache then serves silent calls', async () => {
    const app = msal();
    const { url, outcome, params, pkce, redirectUri } = await obtainCode(app, { loginHint: BOB });
    const query = new URL(url).searchParams;
    assert.equal(query.get('response_mode'), 'query', 'getAuthCodeUrl defaults to query');
    assert.equal(query.get('login_hint'), BOB);
    assert.equal(outcome.pageShown, true);
    assert.equal(outcome.responseMode, 'query');
    assert.equal(params.state, 'product-state-1');
    assert.ok(params.code && params.client_info, 'code and client_info come back on the query');

    const result: AuthenticationResult = await app.acquireTokenByCode({
      code: params.code,
      redirectUri,
      scopes: SCOPES,
      codeVerifier: pkce.verifier,
      clientInfo: params.client_info,
    });
    assert.equal(result.account?.username, BOB);
    assert.equal(verifyJwt(result.accessToken, fixture.signingKeyMap()).ok, true);
    const silent = await app.acquireTokenSilent({ account: result.account!, scopes: SCOPES });
    assert.equal(silent.accessToken, result.accessToken);
  });

  test('a wrong code_verifier is invalid_grant AADSTS501481, a missing one AADSTS50148', async () => {
    const app = msal();
    const { params, redirectUri } = await obtainCode(app, { loginHint: ALICE });
    const other = await new CryptoProvider().generatePkceCodes();
    await assert.rejects(app.acquireTokenByCode({ code: params.code!, redirectUri, scopes: SCOPES, codeVerifier: other.verifier }), (error: unknown) => {
      assert.deepEqual(oauthError(error), { errorCode: 'invalid_grant', aadsts: 501481 });
      return true;
    });
    await assert.rejects(app.acquireTokenByCode({ code: params.code!, redirectUri, scopes: SCOPES }), (error: unknown) => {
      assert.deepEqual(oauthError(error), { errorCode: 'invalid_grant', aadsts: 50148 });
      return true;
    });
  });

  test('a code redeems once: the second time is AADSTS54005', async () => {
    const app = msal();
    const { params, pkce, redirectUri } = await obtainCode(app, { loginHint: ALICE });
    await app.acquireTokenByCode({ code: params.code!, redirectUri, scopes: SCOPES, codeVerifier: pkce.verifier });
    await assert.rejects(app.acquireTokenByCode({ code: params.code!, redirectUri, scopes: SCOPES, codeVerifier: pkce.verifier }), (error: unknown) => {
      assert.deepEqual(oauthError(error), { errorCode: 'invalid_grant', aadsts: 54005 });
      return true;
    });
  });

  test('an expired code is AADSTS70008', async () => {
    const app = msal();
    fixture.platform.controls.authorizationCodeLifetimeSeconds = 0;
    try {
      const { params, pkce, redirectUri } = await obtainCode(app, { loginHint: ALICE });
      await assert.rejects(app.acquireTokenByCode({ code: params.code!, redirectUri, scopes: SCOPES, codeVerifier: pkce.verifier }), (error: unknown) => {
        assert.deepEqual(oauthError(error), { errorCode: 'invalid_grant', aadsts: 70008 });
        return true;
      });
    } finally {
      fixture.platform.controls.authorizationCodeLifetimeSeconds = 600;
    }
  });

  test('redeeming with another redirect_uri than /authorize got is AADSTS500112', async () => {
    const app = msal();
    const { params, pkce, redirectUri } = await obtainCode(app, { loginHint: ALICE });
    const elsewhere = redirectUri.replace(/:(\d+)\//, (_, port: string) => `:${Number(port) + 1}/`);
    await assert.rejects(app.acquireTokenByCode({ code: params.code!, redirectUri: elsewhere, scopes: SCOPES, codeVerifier: pkce.verifier }), (error: unknown) => {
      assert.deepEqual(oauthError(error), { errorCode: 'invalid_grant', aadsts: 500112 });
      return true;
    });
  });

  test('a redirect URI that is not a registered loopback one gets the AADSTS50011 page and no redirect', async () => {
    const app = msal();
    const pkce = await new CryptoProvider().generatePkceCodes();
    for (const redirectUri of ['https://app.example/callback', `http://127.0.0.2:8400/`, 'http://[::1]:8400/', 'http://localhost:8400/callback']) {
      const url = await app.getAuthCodeUrl({ scopes: SCOPES, redirectUri, codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' });
      const outcome = await fixture.platform.completeAuthorization(url, { browser: createBrowserProfile() });
      assert.equal(outcome.kind, 'error-page', redirectUri);
      assert.equal(outcome.delivered, undefined);
      assert.match(outcome.errorMessage ?? '', new RegExp(`^AADSTS50011: The redirect URI '${redirectUri.replace(/[.[\]/]/g, '\\$&')}' specified in the request does not match`));
    }
  });
});

describe('a tenant whose Conditional Access blocks device code', () => {
  test('the device-login page approves, then the token poll is invalid_grant AADSTS53003 on the wire', { timeout: 30_000 }, async () => {
    const failures: FailedExchange[] = [];
    const app = msal({ tenant: demo.NORTHWIND_TENANT, failures });
    let caught: unknown;
    try {
      await app.acquireTokenByDeviceCode({
        scopes: SCOPES,
        timeout: 20,
        deviceCodeCallback: (response) => void fixture.platform.completeDeviceLogin(response.userCode, 'nina@northwind.onmicrosoft.com'),
      });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof AuthError, `MSAL fails the sign-in (${String(caught)})`);
    // All MSAL keeps of it is this (as FACTS.md says); the 53003 is only on the wire.
    assert.equal(caught.errorCode, 'post_request_failed');
    assert.equal(caught.errorMessage, 'invalid_grant');
    const blocked = failures.find((failure) => new URL(failure.url).pathname.endsWith('/oauth2/v2.0/token') && failure.body.error !== 'authorization_pending');
    assert.ok(blocked, `the token poll failed on the wire (MSAL said ${caught.errorCode}: ${caught.errorMessage})`);
    assert.equal(blocked.status, 400);
    assert.equal(blocked.body.error, 'invalid_grant');
    assert.deepEqual(blocked.body.error_codes, [53003]);
    assert.equal(blocked.body.suberror, 'message_only');
    assert.match(String(blocked.body.error_description), /^AADSTS53003: Access has been blocked by Conditional Access policies\./);
    assert.deepEqual(JSON.parse(String(blocked.body.claims)), { access_token: { capolids: { essential: true, values: [demo.BLOCK_DEVICE_CODE_POLICY_ID] } } });
    process.stdout.write(`msal-node on a device-code block: ${caught.constructor.name} ${caught.errorCode}: ${caught.errorMessage.split('\n')[0]}\n`);
  });

  test('the same tenant signs in through the browser', { timeout: 30_000 }, async () => {
    const result = await msal({ tenant: demo.NORTHWIND_TENANT }).acquireTokenInteractive({
      scopes: SCOPES,
      openBrowser: async (url) => void (await fixture.platform.completeAuthorization(url, { browser: createBrowserProfile() })),
    });
    assert.equal(result.account?.username, 'nina@northwind.onmicrosoft.com');
    assert.equal(result.tenantId, demo.NORTHWIND_TENANT);
  });
});
