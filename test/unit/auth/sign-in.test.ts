import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError } from '../../../src/core/auth';
import { verifyJwt } from '../../support/jwt';
import type { IdentityPlatform } from '../../support/identity-platform';
import { ALICE, AKS_CLIENT_APP_ID, AKS_SERVER_APP_ID, CONTOSO_TENANT, DeviceLoginPerson, MALLORY, decodeClaims, newEngine, startPlatform, targetFor, tokenRequests } from './harness';

describe('device-code sign-in against the identity platform', () => {
  let platform: IdentityPlatform | undefined;
  afterEach(async () => {
    await platform?.close();
    platform = undefined;
  });

  it('signs in after approval on the device-login page and returns a verifiable token, its expiry and a refresh token', async () => {
    platform = await startPlatform();
    const { engine, store } = newEngine();
    const person = new DeviceLoginPerson(platform, ALICE);
    const before = Date.now();
    const result = await engine.signIn(targetFor(platform), person);
    await person.settled();

    assert.equal(person.shown.length, 1);
    const shown = person.shown[0]!;
    assert.equal(shown.verificationUri, platform.deviceLoginUrl);
    assert.match(shown.message, new RegExp(shown.userCode));
    assert.ok(shown.expiresOn.getTime() > before + 800_000 && shown.expiresOn.getTime() <= Date.now() + 900_000);

    const keys = new Map(platform.signingKeys.map((key) => [key.kid, key.publicKey]));
    const verification = verifyJwt(result.accessToken, keys);
    assert.ok(verification.ok, verification.ok ? '' : verification.reason);
    assert.equal(verification.claims.aud, AKS_SERVER_APP_ID);
    assert.equal(verification.claims.tid, CONTOSO_TENANT);
    assert.equal(verification.claims.upn, ALICE);
    // MSAL counts the lifetime from when polling began, so its expiry may be a little early, never late.
    const expiresAt = (verification.claims.exp as number) * 1000;
    assert.ok(result.expiresOn.getTime() <= expiresAt && result.expiresOn.getTime() > expiresAt - 5_000, `${result.expiresOn.toISOString()} vs exp ${expiresAt}`);

    assert.equal(result.account.username, ALICE);
    assert.equal(result.account.tenantId, CONTOSO_TENANT);
    assert.equal(result.account.name, 'Alice Admin');
    assert.match(result.account.homeAccountId, new RegExp(`\\.${CONTOSO_TENANT}$`));

    assert.ok(result.refreshToken, 'the refresh token is returned');
    const cache = JSON.parse(store.values.get(`aksSignIn.msalCache.${AKS_CLIENT_APP_ID}`) ?? '{}') as { RefreshToken?: Record<string, { secret: string }> };
    assert.deepEqual(Object.values(cache.RefreshToken ?? {}).map((entry) => entry.secret), [result.refreshToken]);
    assert.equal(tokenRequests(platform, 'device_code').length >= 1, true);
  });

  it('returns a refresh token the platform accepts', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const person = new DeviceLoginPerson(platform, ALICE);
    const first = await engine.signIn(targetFor(platform), person);
    await person.settled();
    platform.controls.singleUseRefreshTokens = true;
    const refreshed = await engine.acquireSilent(targetFor(platform), first.account.homeAccountId, { forceRefresh: true });
    assert.notEqual(refreshed.accessToken, first.accessToken);
    assert.ok(refreshed.refreshToken && refreshed.refreshToken !== first.refreshToken, 'a single-use refresh token is replaced by the new one');
    // The refresh above used the returned refresh token; with single-use tokens it is now spent.
    assert.equal(tokenRequests(platform, 'refresh_token').length, 1);
  });

  it('asks for the spn: scope in config-mode 0 and gets a token for the server app', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const person = new DeviceLoginPerson(platform, ALICE);
    const result = await engine.signIn(targetFor(platform, { configMode: '0' }), person);
    await person.settled();
    assert.equal(decodeClaims(result.accessToken).aud, AKS_SERVER_APP_ID);
    assert.ok(platform.deviceCodes().some((code) => code.scope.includes(`spn:${AKS_SERVER_APP_ID}/.default`)));
  });

  it('signs in through the organizations authority and learns the home tenant', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const target = targetFor(platform, { tenantId: undefined });
    const person = new DeviceLoginPerson(platform, ALICE);
    const result = await engine.signIn(target, person);
    await person.settled();
    assert.equal(result.account.tenantId, CONTOSO_TENANT);
    const again = await engine.acquireSilent(target, result.account.homeAccountId, { forceRefresh: true });
    assert.equal(decodeClaims(again.accessToken).tid, CONTOSO_TENANT);
  });

  it('reports a declined request as declined', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const person = new DeviceLoginPerson(platform, ALICE, 'decline');
    await assert.rejects(engine.signIn(targetFor(platform), person), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.kind, 'declined');
      assert.equal(error.retryable, false);
      assert.match(error.message, /declined/);
      assert.doesNotMatch(error.message, /aka\.ms/);
      return true;
    });
    await person.settled();
  });

  it('reports an unused code as expired when its lifetime ends', async () => {
    platform = await startPlatform();
    platform.controls.deviceCodeLifetimeSeconds = 1;
    const { engine } = newEngine();
    const person = new DeviceLoginPerson(platform, undefined);
    const started = Date.now();
    await assert.rejects(engine.signIn(targetFor(platform), person), (error: unknown) => error instanceof AuthError && error.kind === 'codeExpired' && /expired/.test(error.message));
    assert.ok(Date.now() - started < 5_000, 'gave up soon after the code expired');
  });

  it('treats the platform saying the code expired as an expired code', async () => {
    platform = await startPlatform();
    platform.controls.deviceCodeLifetimeSeconds = 0;
    const { engine } = newEngine();
    const person = new DeviceLoginPerson(platform, undefined);
    await assert.rejects(engine.signIn(targetFor(platform), person), (error: unknown) => error instanceof AuthError && error.kind === 'codeExpired' && error.code === 'expired_token');
    assert.ok(tokenRequests(platform, 'device_code').length >= 1, 'the expiry came from a poll answer');
  });

  it('cancels mid-poll at once, and stops polling', async () => {
    platform = await startPlatform();
    platform.controls.pollIntervalSeconds = 1;
    const { engine } = newEngine();
    const controller = new AbortController();
    const person = new DeviceLoginPerson(platform, undefined);
    const signIn = engine.signIn(targetFor(platform), person, controller.signal);
    while (tokenRequests(platform, 'device_code').length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    const cancelledAt = Date.now();
    controller.abort();
    await assert.rejects(signIn, (error: unknown) => error instanceof AuthError && error.kind === 'cancelled' && !error.retryable);
    assert.ok(Date.now() - cancelledAt < 500, 'the caller does not wait for the next poll');
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const pollsAfterCancel = tokenRequests(platform, 'device_code').filter((request) => request.at > cancelledAt + 1_100).length;
    assert.equal(pollsAfterCancel, 0);
  });

  it('does not start when the signal is already aborted', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const person = new DeviceLoginPerson(platform, ALICE);
    await assert.rejects(engine.signIn(targetFor(platform), person, AbortSignal.abort()), (error: unknown) => error instanceof AuthError && error.kind === 'cancelled');
    assert.equal(person.shown.length, 0);
    assert.equal(platform.requests.length, 0);
  });

  it('explains a Conditional Access block on device-code sign-in', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const person = new DeviceLoginPerson(platform, MALLORY);
    await assert.rejects(engine.signIn(targetFor(platform), person), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.kind, 'blocked');
      assert.equal(error.code, 'AADSTS53003');
      assert.match(error.message, /Conditional Access policy blocks device-code sign-in/);
      return true;
    });
    await person.settled();
  });

  it('explains missing consent for the client app', async () => {
    platform = await startPlatform();
    platform.controls.requireConsent(AKS_CLIENT_APP_ID);
    const { engine } = newEngine();
    const person = new DeviceLoginPerson(platform, ALICE);
    await assert.rejects(engine.signIn(targetFor(platform), person), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.kind, 'consentRequired');
      assert.match(error.message, /administrator to grant consent/);
      assert.ok(error.message.includes(AKS_CLIENT_APP_ID));
      return true;
    });
    await person.settled();
  });

  it('names an unknown tenant without showing a code', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const person = new DeviceLoginPerson(platform, ALICE);
    const unknownTenant = '00000000-1111-4222-8333-444444444444';
    await assert.rejects(engine.signIn(targetFor(platform, { tenantId: unknownTenant }), person), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.kind, 'badTenant');
      assert.ok(error.message.includes(unknownTenant));
      return true;
    });
    assert.equal(person.shown.length, 0);
  });

  it('reports a closed port as unreachable and retryable, then signs in once the platform is there', async () => {
    const reserved = await startPlatform();
    const port = Number(new URL(reserved.url).port);
    await reserved.close();
    const { engine } = newEngine();
    const target = targetFor(reserved);
    await assert.rejects(engine.signIn(target, new DeviceLoginPerson(reserved, ALICE)), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.kind, 'unreachable');
      assert.equal(error.retryable, true);
      assert.equal(error.code, 'ECONNREFUSED');
      assert.ok(error.message.includes(`127.0.0.1:${port}`));
      return true;
    });
    platform = await startPlatform({ port });
    const person = new DeviceLoginPerson(platform, ALICE);
    const result = await engine.signIn(target, person);
    await person.settled();
    assert.equal(result.account.username, ALICE);
  });

  it('reports a platform error while requesting the code as retryable', async () => {
    platform = await startPlatform();
    platform.controls.failNext('5xx', 1, 'devicecode');
    const { engine } = newEngine();
    await assert.rejects(engine.signIn(targetFor(platform), new DeviceLoginPerson(platform, ALICE)), (error: unknown) => error instanceof AuthError && error.kind === 'platformError' && error.retryable);
    const person = new DeviceLoginPerson(platform, ALICE);
    const result = await engine.signIn(targetFor(platform), person);
    await person.settled();
    assert.equal(result.account.username, ALICE);
  });
});
