// The browser method through real MSAL against the identity platform double: the authorize page driven as
// a browser drives it, the redirect to our own loopback listener, PKCE and state, and each way it can end.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { AuthError } from '../../../src/core/auth';
import type { IdentityPlatform } from '../../support/identity-platform';
import { ALICE, BOB, NINA, NORTHWIND_TENANT, decodeClaims, newEngine, signInAs, startPlatform, targetFor, tokenRequests } from './harness';

/** The browser: opens what the engine asks for and completes the page as `username` would. */
function browserThatSignsIn(platform: IdentityPlatform, username: string, decision: 'accept' | 'cancel' = 'accept') {
  const opened: string[] = [];
  const deliveries: Array<{ status: number; body: string } | undefined> = [];
  return {
    opened,
    deliveries,
    ui: {
      async openBrowser(url: string) {
        opened.push(url);
        void platform.completeAuthorization(url, { username, decision }).then((outcome) => deliveries.push(outcome.delivered));
        return true;
      },
    },
  };
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('browser sign-in', () => {
  let platform: IdentityPlatform | undefined;
  afterEach(async () => {
    await platform?.close();
    platform = undefined;
  });

  it('signs in through the page and the loopback redirect with PKCE, and the result refreshes silently', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const target = targetFor(platform);
    const browser = browserThatSignsIn(platform, ALICE);
    const token = await engine.signInWithBrowser(target, browser.ui);
    assert.equal(token.account.username, ALICE);
    assert.equal(decodeClaims(token.accessToken)['aud'], target.serverId);
    assert.ok(token.refreshToken);
    const authorize = new URL(browser.opened[0]!);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorize.searchParams.get('redirect_uri') ?? '', /^http:\/\/localhost:\d+\/$/);
    assert.ok(authorize.searchParams.get('state'));
    assert.equal(tokenRequests(platform, 'authorization_code').filter((entry) => entry.status === 200).length, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(browser.deliveries[0]?.status, 200);
    assert.match(browser.deliveries[0]?.body ?? '', /You are signed in/);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const refreshed = await engine.acquireSilent(target, token.account.homeAccountId, { forceRefresh: true });
    assert.notEqual(refreshed.accessToken, token.accessToken);
  });

  it('is the way in where the tenant blocks device codes', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const northwind = targetFor(platform, { tenantId: NORTHWIND_TENANT });
    await assert.rejects(signInAs(engine, platform, northwind, NINA), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.kind, 'blocked');
      assert.equal(error.code, 'AADSTS53003');
      assert.match(error.message, /browser instead/);
      return true;
    });
    const token = await engine.signInWithBrowser(northwind, browserThatSignsIn(platform, NINA).ui);
    assert.equal(token.account.username, NINA);
  });

  it('a cancel on the page is a declined sign-in, with nothing cached', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    await assert.rejects(engine.signInWithBrowser(targetFor(platform), browserThatSignsIn(platform, ALICE, 'cancel').ui), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.kind, 'declined', error.message);
      return true;
    });
    assert.equal((await engine.accounts(targetFor(platform))).length, 0);
  });

  it('a person who will not open the browser cancels; a redirect that never comes is given up', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    await assert.rejects(engine.signInWithBrowser(targetFor(platform), { openBrowser: async () => false }), (error: unknown) => error instanceof AuthError && error.kind === 'cancelled');
    await assert.rejects(engine.signInWithBrowser(targetFor(platform), { openBrowser: async () => true }, undefined, { timeoutMs: 300 }), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.kind, 'codeExpired');
      assert.match(error.message, /not finished within 5 minutes/);
      return true;
    });
  });

  it('the listener answers one redirect with the right state only, and cancelling stops it', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const controller = new AbortController();
    let authorizeUrl = '';
    const pending = engine.signInWithBrowser(
      targetFor(platform),
      {
        async openBrowser(url) {
          authorizeUrl = url;
          return true;
        },
      },
      controller.signal,
    );
    while (!authorizeUrl) await new Promise((resolve) => setTimeout(resolve, 10));
    const redirect = new URL(new URL(authorizeUrl).searchParams.get('redirect_uri')!);
    const forged = await get(`http://127.0.0.1:${redirect.port}/?code=stolen&state=guessed`);
    assert.equal(forged.status, 400, 'a redirect with another state is refused');
    controller.abort();
    await assert.rejects(pending, (error: unknown) => error instanceof AuthError && error.kind === 'cancelled');
    await assert.rejects(get(`http://127.0.0.1:${redirect.port}/`), 'the listener is gone');
  });

  it('returns through the address VS Code forwards, and refuses one a browser cannot come back to', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const target = targetFor(platform);
    const forwarded: string[] = [];
    // Remote-SSH: VS Code forwards the extension host's port to another local port on the person's machine.
    // The identity platform ignores a loopback redirect's port, so the forwarded address is what it gets.
    const browser = browserThatSignsIn(platform, BOB);
    const token = await engine.signInWithBrowser(target, {
      openBrowser: async (url) => {
        const asked = new URL(url);
        forwarded.push(asked.searchParams.get('redirect_uri') ?? '');
        // The page returns to the forwarded address, which the person's machine maps to our port.
        return browser.ui.openBrowser(url);
      },
      externalUri: async (local) => local.replace('localhost', '127.0.0.1'),
    });
    assert.equal(token.account.username, BOB);
    assert.match(forwarded[0]!, /^http:\/\/127\.0\.0\.1:\d+\/$/);

    await assert.rejects(
      engine.signInWithBrowser(target, { openBrowser: async () => true, externalUri: async () => 'https://example-tunnel.invalid/' }),
      (error: unknown) => error instanceof AuthError && /cannot reach this machine on a loopback address/.test(error.message),
    );
  });
});
