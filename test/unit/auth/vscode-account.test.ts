// The VS Code account method against the contract of vscode.authentication.getSession, in plain Node. In a
// real VS Code it cannot be pointed at the test identity platform: code-server's Microsoft provider returns
// through https://vscode.dev/redirect in a browser tab and refuses custom clouds there, and VS Code asks the
// person for consent in a modal, which it does not show while extension tests run. So the sessions here are
// real ones (tokens of the identity platform double through real MSAL), kept the way a provider keeps them.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError } from '../../../src/core/auth';
import type { AuthTarget } from '../../../src/core/auth/types';
import { providerFor, sessionScopes, vscodeAccountMethod, type AccountSession, type AccountSessions } from '../../../src/core/auth/vscode-account';
import type { IdentityPlatform } from '../../support/identity-platform';
import { CAROL, FABRIKAM_TENANT, decodeClaims, newEngine, signInAs, startPlatform, targetFor } from './harness';

/** VS Code's own client id, whose sessions the microsoft provider hands out. */
const VSCODE_CLIENT_ID = 'aebc6443-996d-45c2-90f0-388ff96faa56';

/** A provider's side of getSession: one account's session, created on request, removable, asked how. */
class Provider implements AccountSessions {
  session: AccountSession | undefined;
  readonly asked: Array<{ providerId: string; scopes: string[]; options: { createIfNone?: boolean; silent?: boolean } }> = [];

  constructor(private readonly create: (scopes: readonly string[]) => Promise<AccountSession>) {}

  async getSession(providerId: string, scopes: readonly string[], options: { createIfNone?: boolean; silent?: boolean }): Promise<AccountSession | undefined> {
    this.asked.push({ providerId, scopes: [...scopes], options });
    if (!this.session && options.createIfNone) this.session = await this.create(scopes);
    return this.session;
  }
}

describe('VS Code\'s Microsoft account method', () => {
  let platform: IdentityPlatform | undefined;
  afterEach(async () => {
    await platform?.close();
    platform = undefined;
  });

  it('asks the provider for the server app in the cluster\'s tenant, reads the expiry from the token, and says "sign in again" once the session is gone', async () => {
    platform = await startPlatform();
    const { engine } = newEngine();
    const target: AuthTarget = { ...targetFor(platform), tenantId: FABRIKAM_TENANT };
    const provider = new Provider(async () => {
      const token = await signInAs(engine, platform!, { ...target, clientId: VSCODE_CLIENT_ID }, CAROL);
      return { accessToken: token.accessToken, account: { id: token.account.homeAccountId, label: token.account.username } };
    });
    const method = vscodeAccountMethod({ sessions: provider });
    const token = await method.acquire(target, { showDeviceCode: () => undefined, openBrowser: async () => false });
    assert.equal(token.account.username, CAROL);
    assert.equal(token.account.tenantId, FABRIKAM_TENANT);
    const claims = decodeClaims(token.accessToken);
    assert.equal(claims['aud'], target.serverId);
    assert.equal(token.expiresOn.getTime(), (claims['exp'] as number) * 1000, 'the expiry is the token\'s own');
    assert.equal(token.refreshToken, undefined, 'no refresh token of ours exists');
    assert.deepEqual(provider.asked[0], { providerId: 'microsoft', scopes: [`${target.serverId}/.default`, `VSCODE_TENANT:${FABRIKAM_TENANT}`], options: { createIfNone: true } });

    const again = await method.acquireSilent(target, token.account.homeAccountId, { forceRefresh: true });
    assert.equal(again.accessToken, token.accessToken, 'asked again silently, the provider answers with its session');
    assert.deepEqual(provider.asked[1]?.options, { silent: true });

    provider.session = undefined; // the person signed out of VS Code
    await assert.rejects(method.acquireSilent(target, token.account.homeAccountId), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.remedy.kind, 'signInAgain');
      assert.match(error.message, /no longer signed in to VS Code/);
      return true;
    });
  });

  it('uses the sovereign-cloud provider outside the public cloud, and config-mode 0\'s spn: audience', () => {
    assert.equal(providerFor('AzurePublicCloud'), 'microsoft');
    assert.equal(providerFor('AzureUSGovernmentCloud'), 'microsoft-sovereign-cloud');
    assert.equal(providerFor('AzureChinaCloud'), 'microsoft-sovereign-cloud');
    const target: AuthTarget = { environment: 'AzureUSGovernmentCloud', clientId: 'c', serverId: '6dae42f8-4368-4678-94ff-3960e28e3630', configMode: '0' };
    assert.deepEqual(sessionScopes(target), ['spn:6dae42f8-4368-4678-94ff-3960e28e3630/.default', 'VSCODE_TENANT:organizations']);
  });

  it('a token without an expiry is refused, not kept forever', async () => {
    const method = vscodeAccountMethod({ sessions: new Provider(async () => ({ accessToken: 'eyJhbGciOiJub25lIn0.e30.', account: { id: 'a', label: 'someone' } })) });
    await assert.rejects(method.acquire({ environment: 'AzurePublicCloud', clientId: 'c', serverId: 's' }, { showDeviceCode: () => undefined, openBrowser: async () => false }), /without an expiry/);
  });
});
