import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError } from '../../../src/core/auth';
import type { SecretStore } from '../../../src/core/ports';
import { MemorySecretStore } from '../../support/memory-secret-store';
import { ALICE, DeviceLoginPerson, MALLORY, RecordingLogger, newEngine, signInAs, startPlatform, targetFor } from './harness';

/** Every value the cache secret ever held, so the test knows every token that existed, id tokens included. */
class SnapshottingSecretStore extends MemorySecretStore implements SecretStore {
  readonly snapshots: string[] = [];
  override async store(key: string, value: string): Promise<void> {
    this.snapshots.push(value);
    await super.store(key, value);
  }
}

function tokensIn(snapshot: string): string[] {
  const cache = JSON.parse(snapshot) as Record<string, Record<string, { secret?: string }> | undefined>;
  return ['AccessToken', 'RefreshToken', 'IdToken'].flatMap((section) => Object.values(cache[section] ?? {}).map((entry) => entry.secret ?? '')).filter((secret) => secret !== '');
}

describe('tokens never reach logs or error messages', () => {
  it('keeps every access, refresh and id token out of every log line and error message', async () => {
    const platform = await startPlatform();
    try {
      const store = new SnapshottingSecretStore();
      const logger = new RecordingLogger();
      const { engine } = newEngine(store, logger);
      const target = targetFor(platform);
      const messages: string[] = [];
      const expectFailure = async (operation: Promise<unknown>) => {
        await assert.rejects(operation, (error: unknown) => {
          assert.ok(error instanceof AuthError);
          messages.push(error.message, String(error.stack), JSON.stringify(error));
          return true;
        });
      };

      const signedIn = await signInAs(engine, platform, target, ALICE);
      const seen = [signedIn.accessToken, signedIn.refreshToken ?? ''];
      for (const failure of ['5xx', 'malformed', 'reset', 'temporarily_unavailable', 'invalid_grant'] as const) {
        platform.controls.failNext(failure);
        await expectFailure(engine.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true }));
        const refreshed = await engine.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true });
        seen.push(refreshed.accessToken, refreshed.refreshToken ?? '');
      }
      const declining = new DeviceLoginPerson(platform, ALICE, 'decline');
      await expectFailure(engine.signIn(target, declining));
      await declining.settled();
      const blocked = new DeviceLoginPerson(platform, MALLORY);
      await expectFailure(engine.signIn(target, blocked));
      await blocked.settled();
      platform.controls.revokeRefreshTokens();
      await expectFailure(engine.acquireSilent(target, signedIn.account.homeAccountId, { forceRefresh: true }));
      await engine.signOut(target, signedIn.account.homeAccountId);

      const tokens = new Set([...seen, ...store.snapshots.flatMap(tokensIn)].filter((token) => token.length >= 16));
      assert.ok(tokens.size >= 12, `collected ${tokens.size} tokens`);
      assert.ok(logger.lines.length > 100, 'MSAL logged at every level down to trace');
      const everything = [...logger.lines, ...messages];
      for (const token of tokens) {
        // A fragment is enough to leak a token; look for its signature part (or all of an opaque token).
        const fragment = token.includes('.') ? token.split('.').pop()! : token;
        const leaks = everything.filter((line) => line.includes(fragment) || line.includes(token));
        assert.deepEqual(leaks, [], 'a token appeared in a log line or error message');
      }
    } finally {
      await platform.close();
    }
  });
});
