// The words every view uses for a sign-in state, and the format choice the sign-in message explains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UserCredential } from '../../../src/core/kubeconfig';
import { describeState, escapeMarkdown, formatTimeLeft, needsAttention } from '../../../src/core/session/describe';
import { chooseCredentialFormat } from '../../../src/core/session/format';

const now = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (ms: number) => new Date(now + ms);

test('time left reads as a person would say it, and never negative', () => {
  assert.equal(formatTimeLeft(59_999), '59s');
  assert.equal(formatTimeLeft(47 * 60_000 + 30_000), '47m');
  assert.equal(formatTimeLeft(65 * 60_000), '1h 05m');
  assert.equal(formatTimeLeft(-5_000), '0s');
});

test('every state has words, and the ones that need the user are flagged', () => {
  const account = 'alice@contoso.example';
  const states = [
    { state: { kind: 'signedIn', account, expiresOn: at(47 * 60_000), format: 'token', refreshing: false }, words: `signed in as ${account}, expires in 47m`, attention: false },
    { state: { kind: 'signedIn', account, expiresOn: at(60_000), format: 'token', refreshing: true }, words: `signed in as ${account}, expires in 1m, refreshing…`, attention: false },
    { state: { kind: 'retrying', account, expiresOn: at(60_000), format: 'token', reason: 'network down', nextAttemptAt: at(5_000), remedy: { kind: 'wait' } }, words: `signed in as ${account}, refresh failed (retrying in 5s): network down`, attention: true },
    { state: { kind: 'retrying', account, expiresOn: at(60_000), format: 'token', reason: 'not valid YAML', nextAttemptAt: at(5_000), remedy: { kind: 'fixFile', file: '/k' } }, words: `signed in as ${account}, cannot write the kubeconfig (retrying in 5s): not valid YAML`, attention: true },
    { state: { kind: 'expired', account, expiresOn: at(-1), format: 'legacy', reason: 'network down' }, words: 'expired: network down', attention: true },
    { state: { kind: 'needsSignIn', account, reason: 'revoked', remedy: { kind: 'signInAgain' } }, words: 'sign in again: revoked', attention: true },
    { state: { kind: 'needsSignIn', account, reason: 'not assigned', remedy: { kind: 'askAdmin' } }, words: 'needs an administrator: not assigned', attention: true },
    { state: { kind: 'signedOut' }, words: 'not signed in', attention: false },
    { state: { kind: 'signingIn' }, words: 'signing in…', attention: false },
    { state: { kind: 'notAks', description: 'client certificate' }, words: 'not an AKS user (client certificate)', attention: false },
  ] as const;
  for (const { state, words, attention } of states) {
    assert.equal(describeState(state as never, now), words);
    assert.equal(needsAttention(state as never), attention, state.kind);
  }
});

test('Markdown in names cannot change a tooltip', () => {
  assert.equal(escapeMarkdown('prod|*aks*_[x](y)'), 'prod\\|\\*aks\\*\\_\\[x\\](y)');
});

test('auto as the README states it: legacy only for an auth-provider entry read by kubectl 1.25 or older', () => {
  const credential = (origin: 'auth-provider' | 'exec-kubelogin', format: 'legacy' | 'token' | 'none') =>
    ({ kind: 'aks', identity: { serverId: 's', clientId: 'c', environment: 'AzurePublicCloud', origin }, format, managed: format !== 'none' }) as Extract<UserCredential, { kind: 'aks' }>;
  assert.equal(chooseCredentialFormat('auto', credential('auth-provider', 'none'), 25).format, 'legacy');
  // No kubectl to ask: every modern client refuses the legacy block, and a token works with all of them.
  assert.equal(chooseCredentialFormat('auto', credential('auth-provider', 'none'), undefined).format, 'token');
  assert.match(chooseCredentialFormat('auto', credential('auth-provider', 'none'), undefined).reason, /no kubectl was found/);
  // An entry already in the legacy form leaves it once the kubectl in use is 1.26 or newer.
  assert.equal(chooseCredentialFormat('auto', credential('auth-provider', 'legacy'), 33).format, 'token');
  assert.equal(chooseCredentialFormat('auto', credential('auth-provider', 'legacy'), 20).format, 'legacy');
  assert.equal(chooseCredentialFormat('auto', credential('auth-provider', 'token'), 20).format, 'token');
  assert.equal(chooseCredentialFormat('auto', credential('auth-provider', 'none'), 26).format, 'token');
  assert.equal(chooseCredentialFormat('auto', credential('exec-kubelogin', 'none'), 20).format, 'token');
  assert.equal(chooseCredentialFormat('auto', credential('exec-kubelogin', 'legacy'), 33).format, 'token');
  // A format chosen for the entry by a person outranks both the setting and auto.
  assert.equal(chooseCredentialFormat('legacy', credential('auth-provider', 'legacy'), 33, 'token').format, 'token');
  const explicit = chooseCredentialFormat('token', credential('auth-provider', 'legacy'), 20);
  assert.deepEqual(explicit, { format: 'token', reason: 'aksSignIn.credentialFormat is "token"' });
  assert.match(chooseCredentialFormat('auto', credential('auth-provider', 'none'), 26).reason, /kubectl 1\.26 no longer reads the azure auth-provider/);
});
