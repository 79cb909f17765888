import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError, cacheSecretKey } from '../../../src/core/auth';
import type { IdentityPlatform } from '../../support/identity-platform';
import { MemorySecretStore } from '../../support/memory-secret-store';
import {
  AKS_CLIENT_APP_ID,
  ALICE,
  BOB,
  CAROL,
  CONTOSO_TENANT,
  FABRIKAM_TENANT,
  OTHER_CLIENT_ID,
  decodeClaims,
  newEngine,
  signInAs,
  startPlatform,
  targetFor,
  tokenRequests,
} from './harness';

const usernames = (accounts: { username: string }[]) => accounts.map((account) => account.username).sort();

describe('token cache in the SecretStore', () => {
  let platform: IdentityPlatform | undefined;
  afterEach(async () => {
    await platform?.close();
    platform = undefined;
  });

  it('keeps two tenants and two client ids signed in at once, each in its own secret', async () => {
    platform = await startPlatform();
    const { engine, store } = newEngine();
    const contoso = targetFor(platform);
    const fabrikam = targetFor(platform, { tenantId: FABRIKAM_TENANT });
    const contosoOtherApp = targetFor(platform, { clientId: OTHER_CLIENT_ID });
    const alice = await signInAs(engine, platform, contoso, ALICE);
    const carol = await signInAs(engine, platform, fabrikam, CAROL);
    const aliceOtherApp = await signInAs(engine, platform, contosoOtherApp, ALICE);

    assert.deepEqual([...store.values.keys()].sort(), [cacheSecretKey(AKS_CLIENT_APP_ID), cacheSecretKey(OTHER_CLIENT_ID)].sort());
    assert.deepEqual(usernames(await engine.accounts(contoso)), [ALICE]);
    assert.deepEqual(usernames(await engine.accounts(fabrikam)), [CAROL]);
    assert.deepEqual(usernames(await engine.accounts(contosoOtherApp)), [ALICE]);
    assert.deepEqual(usernames(await engine.accounts(targetFor(platform, { tenantId: undefined }))), [ALICE, CAROL]);

    const refreshed = await Promise.all([
      engine.acquireSilent(contoso, alice.account.homeAccountId, { forceRefresh: true }),
      engine.acquireSilent(fabrikam, carol.account.homeAccountId, { forceRefresh: true }),
      engine.acquireSilent(contosoOtherApp, aliceOtherApp.account.homeAccountId, { forceRefresh: true }),
    ]);
    assert.deepEqual(
      refreshed.map((result) => [decodeClaims(result.accessToken).tid, decodeClaims(result.accessToken).appid, result.account.username]),
      [
        [CONTOSO_TENANT, AKS_CLIENT_APP_ID, ALICE],
        [FABRIKAM_TENANT, AKS_CLIENT_APP_ID, CAROL],
        [CONTOSO_TENANT, OTHER_CLIENT_ID, ALICE],
      ],
    );
    // Each refresh token belongs to its own client and account.
    assert.equal(new Set(refreshed.map((result) => result.refreshToken)).size, 3);
  });

  it('survives a restart: a new engine over the same store serves the cached token without a token request', async () => {
    platform = await startPlatform();
    const store = new MemorySecretStore();
    const target = targetFor(platform);
    const signedIn = await signInAs(newEngine(store).engine, platform, target, ALICE);
    const tokenRequestsBefore = tokenRequests(platform).length;

    const { engine: restarted } = newEngine(store);
    assert.deepEqual(await restarted.accounts(target), [signedIn.account]);
    const cached = await restarted.acquireSilent(target, signedIn.account.homeAccountId);
    assert.equal(cached.accessToken, signedIn.accessToken);
    assert.equal(cached.refreshToken, signedIn.refreshToken);
    // A new process looks up the authority's endpoints again, but needs no token request.
    assert.equal(tokenRequests(platform).length, tokenRequestsBefore);
    const refreshed = await restarted.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true });
    assert.notEqual(refreshed.accessToken, signedIn.accessToken);
  });

  it('writes the secret only when the cache really changed', async () => {
    platform = await startPlatform();
    const { engine, store } = newEngine();
    const target = targetFor(platform);
    const signedIn = await signInAs(engine, platform, target, ALICE);
    const key = cacheSecretKey(AKS_CLIENT_APP_ID);
    const writes = store.writes(key);
    assert.ok(writes >= 1);
    await engine.acquireSilent(target, signedIn.account.homeAccountId);
    await engine.accounts(target);
    assert.equal(store.writes(key), writes, 'reading a cached token does not rewrite the secret');
    await engine.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true });
    assert.equal(store.writes(key), writes + 1);
  });

  it('signs out one account and keeps the others', async () => {
    platform = await startPlatform();
    const { engine, store } = newEngine();
    const target = targetFor(platform);
    const alice = await signInAs(engine, platform, target, ALICE);
    const bob = await signInAs(engine, platform, target, BOB);
    assert.deepEqual(usernames(await engine.accounts(target)), [ALICE, BOB]);

    await engine.signOut(target, alice.account.homeAccountId);
    assert.deepEqual(usernames(await engine.accounts(target)), [BOB]);
    const secret = store.values.get(cacheSecretKey(AKS_CLIENT_APP_ID)) ?? '';
    assert.ok(!secret.includes(alice.refreshToken!), "alice's refresh token is gone from the secret");
    assert.ok(!secret.includes(alice.account.homeAccountId));
    assert.ok(secret.includes(bob.refreshToken!));
    await assert.rejects(engine.acquireSilent(target, alice.account.homeAccountId), (error: unknown) => error instanceof AuthError && error.kind === 'notSignedIn');
    assert.ok((await engine.acquireSilent(target, bob.account.homeAccountId)).accessToken);
    // Signing out an account that is not there is not an error.
    await engine.signOut(target, alice.account.homeAccountId);
  });

  it("picks up another window's changes, and never brings back an account it signed out", async () => {
    platform = await startPlatform();
    const store = new MemorySecretStore();
    const { engine: first } = newEngine(store);
    const { engine: second } = newEngine(store);
    const target = targetFor(platform);

    const alice = await signInAs(first, platform, target, ALICE);
    assert.deepEqual(usernames(await second.accounts(target)), [ALICE]);
    const fromSecond = await second.acquireSilent(target, alice.account.homeAccountId);
    assert.equal(fromSecond.accessToken, alice.accessToken);

    await second.signOut(target, alice.account.homeAccountId);
    assert.deepEqual(await first.accounts(target), []);
    await signInAs(first, platform, target, BOB);
    assert.deepEqual(usernames(await second.accounts(target)), [BOB]);
    assert.deepEqual(usernames(await first.accounts(target)), [BOB]);
  });

  it('shares one secret between tenants of one client id without either losing the other', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const contoso = targetFor(platform);
    const fabrikam = targetFor(platform, { tenantId: FABRIKAM_TENANT });
    const alice = await signInAs(engine, platform, contoso, ALICE);
    const carol = await signInAs(engine, platform, fabrikam, CAROL);
    // Each authority's client wrote the shared secret after the other loaded it.
    await engine.acquireSilent(contoso, alice.account.homeAccountId, { forceRefresh: true });
    await engine.signOut(fabrikam, carol.account.homeAccountId);
    await engine.acquireSilent(contoso, alice.account.homeAccountId, { forceRefresh: true });
    assert.deepEqual(usernames(await engine.accounts(targetFor(platform, { tenantId: undefined }))), [ALICE]);
    assert.equal(tokenRequests(platform, 'refresh_token').length, 2);
  });

  it('starts empty, with a warning, when the stored cache is damaged', async () => {
    platform = await startPlatform();
    const store = new MemorySecretStore();
    await store.store(cacheSecretKey(AKS_CLIENT_APP_ID), '{"Account": {broken');
    const { engine, logger } = newEngine(store);
    const target = targetFor(platform);
    assert.deepEqual(await engine.accounts(target), []);
    assert.ok(logger.lines.some((line) => line.startsWith('warn') && /could not be read/.test(line)));
    const signedIn = await signInAs(engine, platform, target, ALICE);
    assert.deepEqual(await engine.accounts(target), [signedIn.account]);
  });
});
