import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthEngine, AuthError } from '../../../src/core/auth';
import type { IdentityPlatform } from '../../support/identity-platform';
import { MemorySecretStore } from '../../support/memory-secret-store';
import { ALICE, BOB, RecordingLogger, decodeClaims, newEngine, signInAs, startPlatform, targetFor, testCa, tokenRequests } from './harness';

const isAuthError = (kind: AuthError['kind'], retryable: boolean) => (error: unknown) => {
  assert.ok(error instanceof AuthError, `expected an AuthError, got ${String(error)}`);
  assert.equal(error.kind, kind, error.message);
  assert.equal(error.retryable, retryable);
  assert.doesNotMatch(error.message, /aka\.ms\/msal/);
  return true;
};

describe('silent refresh', () => {
  let platform: IdentityPlatform | undefined;
  afterEach(async () => {
    await platform?.close();
    platform = undefined;
  });

  it('serves a fresh token from the cache and refreshes when forced', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const target = targetFor(platform);
    const signedIn = await signInAs(engine, platform, target, ALICE);

    const cached = await engine.acquireSilent(target, signedIn.account.homeAccountId);
    assert.equal(cached.accessToken, signedIn.accessToken);
    assert.equal(cached.refreshToken, signedIn.refreshToken);
    assert.equal(tokenRequests(platform, 'refresh_token').length, 0);

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const forced = await engine.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true });
    assert.equal(tokenRequests(platform, 'refresh_token').length, 1);
    assert.notEqual(forced.accessToken, signedIn.accessToken);
    assert.ok(forced.expiresOn.getTime() > signedIn.expiresOn.getTime());
    assert.equal(forced.account.homeAccountId, signedIn.account.homeAccountId);
    assert.ok(forced.refreshToken);
  });

  it('refreshes a token that is within MSAL\'s five-minute margin of expiry', async () => {
    platform = await startPlatform({ tokenLifetimeSeconds: 240 });
    const { engine } = newEngine();
    const target = targetFor(platform);
    const signedIn = await signInAs(engine, platform, target, ALICE);
    const first = await engine.acquireSilent(target, signedIn.account.homeAccountId);
    const second = await engine.acquireSilent(target, signedIn.account.homeAccountId);
    assert.equal(tokenRequests(platform, 'refresh_token').length, 2);
    assert.notEqual(first.accessToken, signedIn.accessToken);
    assert.notEqual(second.accessToken, first.accessToken);
    const claims = decodeClaims(second.accessToken);
    assert.equal((claims.exp as number) - (claims.iat as number), 240);
  });

  it('asks to sign in again when the refresh token was revoked', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const target = targetFor(platform);
    const signedIn = await signInAs(engine, platform, target, ALICE);
    platform.controls.revokeRefreshTokens(ALICE);
    await assert.rejects(engine.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true }), (error: unknown) => {
      isAuthError('signInAgain', false)(error);
      assert.equal((error as AuthError).code, 'AADSTS50173');
      assert.match((error as AuthError).message, /Sign in again/);
      assert.ok((error as AuthError).message.includes(ALICE));
      return true;
    });
  });

  it('asks to sign in again on invalid_grant', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const target = targetFor(platform);
    const signedIn = await signInAs(engine, platform, target, ALICE);
    platform.controls.failNext('invalid_grant');
    await assert.rejects(engine.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true }), isAuthError('signInAgain', false));
  });

  for (const [failure, kind] of [
    ['5xx', 'platformError'],
    ['temporarily_unavailable', 'platformError'],
    ['malformed', 'platformError'],
    ['reset', 'unreachable'],
  ] as const) {
    it(`reports ${failure} during refresh as ${kind}, retryable, and succeeds on the next try`, async () => {
      platform = await startPlatform();
      const { engine } = newEngine();
      const target = targetFor(platform);
      const signedIn = await signInAs(engine, platform, target, ALICE);
      platform.controls.failNext(failure);
      await assert.rejects(engine.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true }), (error: unknown) => {
        isAuthError(kind, true)(error);
        if (failure === 'temporarily_unavailable') assert.equal((error as AuthError).retryAfterMs, 1_000);
        return true;
      });
      // No waiting: MSAL's one-minute memory of a 5xx must not turn the retry into a replayed failure.
      const retried = await engine.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true });
      assert.notEqual(retried.accessToken, signedIn.accessToken);
    });
  }

  it('reports a platform that does not answer in time as unreachable, then recovers', async () => {
    platform = await startPlatform();
    const store = new MemorySecretStore();
    const engine = new AuthEngine({ secretStore: store, logger: new RecordingLogger(), ca: [testCa().caPem], requestTimeoutMs: 400 });
    const target = targetFor(platform);
    const signedIn = await signInAs(engine, platform, target, ALICE);
    platform.controls.latencyMs = 1_500;
    await assert.rejects(engine.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true }), (error: unknown) => {
      isAuthError('unreachable', true)(error);
      assert.equal((error as AuthError).code, 'ETIMEDOUT');
      return true;
    });
    platform.controls.latencyMs = 0;
    const retried = await engine.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true });
    assert.ok(retried.accessToken);
  });

  it('says when an account is not signed in', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    await assert.rejects(engine.acquireSilent(targetFor(platform), 'nobody.nowhere'), isAuthError('notSignedIn', false));
  });

  it('runs concurrent refreshes one at a time, so single-use refresh tokens are never replayed', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const target = targetFor(platform);
    const signedIn = await signInAs(engine, platform, target, ALICE);
    platform.controls.singleUseRefreshTokens = true;
    platform.controls.latencyMs = 30;
    const results = await Promise.all(Array.from({ length: 4 }, () => engine.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true })));
    assert.equal(new Set(results.map((result) => result.accessToken)).size, 4);
    assert.equal(tokenRequests(platform, 'refresh_token').filter((request) => request.status === 200).length, 4);
  });

  it('refreshes while a sign-in on the same client id waits for a person, and a second sign-in still gets its code', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const target = targetFor(platform);
    const signedIn = await signInAs(engine, platform, target, ALICE);
    const codes: string[] = [];
    // Two people typing codes for two clusters that share the AKS-managed client id; nobody approves yet.
    const firstSignIn = engine.signIn(target, { show: (info) => void codes.push(info.userCode) });
    const secondSignIn = engine.signIn(target, { show: (info) => void codes.push(info.userCode) });
    const deadline = Date.now() + 10_000;
    while (codes.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(codes.length, 2, 'both sign-ins show their code at once');

    const refreshed = await engine.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true });
    assert.notEqual(refreshed.accessToken, signedIn.accessToken, 'the refresh ran while both codes were waiting');
    assert.equal(tokenRequests(platform, 'refresh_token').filter((request) => request.status === 200).length, 1);

    await platform.completeDeviceLogin(codes[1]!, BOB);
    await platform.completeDeviceLogin(codes[0]!, ALICE);
    const [first, second] = await Promise.all([firstSignIn, secondSignIn]);
    assert.equal(first.account.username, ALICE);
    assert.equal(second.account.username, BOB);
    // Both sign-ins were adopted into the one shared cache: each account refreshes silently afterwards.
    for (const result of [first, second]) {
      const again = await engine.acquireSilent(target, result.account.homeAccountId, { forceRefresh: true });
      assert.equal(again.account.homeAccountId, result.account.homeAccountId);
      assert.ok(again.refreshToken);
    }
    assert.equal((await engine.accounts(target)).length, 2);
  });
});
