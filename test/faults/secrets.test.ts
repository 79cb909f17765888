// A representative flow (sign in, refresh, a failed refresh, a revoked sign-in, sign out) with everything
// recorded: no access, refresh or id token from the flow may appear in a log line, an error or state
// message, a file the flow left outside the kubeconfig, a SecretStore key or the non-secret state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { demo, startIdentityPlatform } from '../support/identity-platform';
import { azNames, azSkeleton } from '../support/kubeconfig-fixtures';
import { createTestCa } from '../support/tls';
import { approvingPrompt, recordingLogger, sessionHarness, stateOf, waitFor } from './session-harness';
import { scratchFolder } from './support';

const alice = 'alice@contoso.onmicrosoft.com';

/** Every token-shaped secret in a text: JWTs (access and id tokens) and the platform's refresh tokens. */
function tokensIn(text: string): string[] {
  return [...text.matchAll(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|0\.A[A-Za-z0-9_-]{20,}/g)].map((match) => match[0]);
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

test('no token from a whole sign-in, refresh, failure and sign-out flow leaks outside the kubeconfig and the secret store', async (t) => {
  const dir = scratchFolder(t);
  const ca = createTestCa(join(dir, 'ca'));
  const platform = await startIdentityPlatform({ tls: { ...ca.serverCertificate, ca: ca.caPem } });
  t.after(() => platform.close());
  platform.controls.pollIntervalSeconds = 1;
  const logged: string[] = [];
  const messages: string[] = [];
  const secrets = new Set<string>();
  const kubeconfig = join(dir, 'kubeconfig');
  // The legacy form, so the kubeconfig holds the refresh token too and every kind of token is in play.
  const h = sessionHarness({
    platform,
    ca: [ca.caPem],
    logger: recordingLogger(logged),
    kubeconfig,
    text: azSkeleton({ server: 'https://127.0.0.1:6443', format: 'auth-provider', contexts: 2, tenantId: demo.CONTOSO_TENANT }),
    kubectlMinor: 20,
  });
  const collect = () => {
    for (const token of tokensIn(readFileSync(kubeconfig, 'utf8'))) secrets.add(token);
    for (const value of h.secrets.values.values()) for (const token of tokensIn(value)) secrets.add(token);
    for (const entry of h.service.entries()) {
      const state = entry.state;
      if ('reason' in state && state.reason !== undefined) messages.push(state.reason);
    }
  };
  const { context } = azNames(0);
  try {
    await h.service.reload();
    const outcome = await h.service.signIn(context, approvingPrompt(platform, alice));
    assert.equal(outcome.format, 'legacy');
    collect();
    await h.service.refresh(context);
    collect();
    platform.controls.failNext('5xx', 1);
    await h.service.refresh(context);
    assert.equal(stateOf(h.service, context).kind, 'retrying');
    collect();
    // Settled, not just refreshing: a revoke during a refresh already on the wire would not affect it.
    await waitFor(() => {
      const state = stateOf(h.service, context);
      return state.kind === 'signedIn' && !state.refreshing;
    }, 30_000, 'the retry');
    collect();
    platform.controls.revokeRefreshTokens(alice);
    await h.service.refresh();
    assert.equal(stateOf(h.service, context).kind, 'needsSignIn');
    collect();
    await assert.rejects(h.service.signIn('no-such-context', approvingPrompt(platform, alice)), (error: Error) => {
      messages.push(error.message);
      return true;
    });
    await h.service.signIn(context, approvingPrompt(platform, alice));
    collect();
    await h.service.signOut(azNames(0).context);
    await h.service.signOut(azNames(1).context);
    collect();
  } finally {
    h.service.dispose();
  }

  const kinds = { jwt: [...secrets].filter((token) => token.startsWith('eyJ')).length, refresh: [...secrets].filter((token) => token.startsWith('0.A')).length };
  assert.ok(kinds.jwt >= 3 && kinds.refresh >= 1, `the flow produced access, id and refresh tokens to look for: ${JSON.stringify(kinds)}`);
  assert.ok(logged.length > 20 && messages.length >= 3, 'there were log lines and messages to look at');

  const places: Array<[string, string]> = [
    ...logged.map((line, i): [string, string] => [`log line ${i}`, line]),
    ...messages.map((message, i): [string, string] => [`message ${i}`, message]),
    ...[...h.secrets.values.keys()].map((key): [string, string] => [`secret store key`, key]),
    ['non-secret state', JSON.stringify([...h.state.values])],
    ...filesUnder(dir)
      .filter((file) => file !== kubeconfig)
      .map((file): [string, string] => [`file ${file}`, readFileSync(file, 'latin1')]),
  ];
  for (const [where, text] of places) {
    for (const token of secrets) assert.ok(!text.includes(token), `a token reached ${where}`);
    // Anything token-shaped at all would be one this test failed to collect; better to know.
    assert.deepEqual(tokensIn(text), [], `nothing token-shaped in ${where}`);
  }
  t.diagnostic(`${secrets.size} distinct tokens checked against ${logged.length} log lines, ${messages.length} messages, ${places.length} places`);
});
