// Identity platform faults during a refresh, through the session service and real MSAL: the service keeps
// running, the state says what is wrong in words a person understands, a transient fault clears by itself
// through the keeper's own retry, and the kubeconfig is never written with a bad token.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FailureKind, IdentityPlatform } from '../support/identity-platform';
import { demo, startIdentityPlatform } from '../support/identity-platform';
import { azNames, azSkeleton } from '../support/kubeconfig-fixtures';
import { createTestCa } from '../support/tls';
import { approvingPrompt, assertGenuine, recordingLogger, sessionHarness, stateOf, tokenInKubeconfig, waitFor, type HarnessOptions, type SessionHarness } from './session-harness';

const alice = 'alice@contoso.onmicrosoft.com';
const bob = 'bob@contoso.onmicrosoft.com';
const { context, user } = azNames(0);
// The keeper's first retry comes 2.5 to 5 s after a failure; the rest is a loaded machine's slack.
const RETRY_WAIT_MS = 30_000;

let workDir: string;
let platform: IdentityPlatform;
let caPem: string;
let otherCaPem: string;
const logged: string[] = [];
let fileCounter = 0;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'aks-signin-refresh-faults-'));
  const ca = createTestCa(join(workDir, 'ca'));
  caPem = ca.caPem;
  otherCaPem = createTestCa(join(workDir, 'other-ca')).caPem;
  platform = await startIdentityPlatform({ tls: { ...ca.serverCertificate, ca: ca.caPem } });
  platform.controls.pollIntervalSeconds = 1;
});

after(async () => {
  await platform.close();
  rmSync(workDir, { recursive: true, force: true });
});

function harness(overrides: Partial<HarnessOptions> = {}): SessionHarness {
  return sessionHarness({
    platform,
    ca: [caPem],
    logger: recordingLogger(logged),
    kubeconfig: join(workDir, `config-${++fileCounter}`),
    text: azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin', tenantId: demo.CONTOSO_TENANT }),
    ...overrides,
  });
}

async function signedIn(username = alice, overrides: Partial<HarnessOptions> = {}): Promise<SessionHarness> {
  const h = harness(overrides);
  await h.service.reload();
  await h.service.signIn(context, approvingPrompt(platform, username));
  assertGenuine(platform, tokenInKubeconfig(h.kubeconfig, user));
  return h;
}

/** What a person reads must name the service and say what happens next, and carry no token or library jargon. */
function assertHumanReason(reason: string, file: string, expected: RegExp): void {
  assert.match(reason, expected);
  assert.doesNotMatch(reason, /aka\.ms|msal|undefined|\[object|eyJ[A-Za-z0-9_-]{10}/i, reason);
  const token = tokenInKubeconfig(file, user);
  assert.ok(token === undefined || !reason.includes(token), 'no token in the reason');
}

/** A failed refresh, then the keeper's own retry once the fault is gone: a new, genuine token. */
async function failThenRecover(h: SessionHarness, fault: () => void, clear: () => void, expected: RegExp): Promise<void> {
  const before = readFileSync(h.kubeconfig);
  const tokenBefore = tokenInKubeconfig(h.kubeconfig, user);
  fault();
  await h.service.refresh(context);
  const failed = stateOf(h.service, context);
  assert.equal(failed.kind, 'retrying', JSON.stringify(failed));
  if (failed.kind === 'retrying') {
    assertHumanReason(failed.reason, h.kubeconfig, expected);
    assert.ok(failed.nextAttemptAt.getTime() > Date.now() - 1000, 'a retry is planned');
  }
  assert.deepEqual(readFileSync(h.kubeconfig), before, 'a failed refresh leaves every byte of the kubeconfig');
  clear();
  await waitFor(() => stateOf(h.service, context).kind === 'signedIn' && tokenInKubeconfig(h.kubeconfig, user) !== tokenBefore, RETRY_WAIT_MS, 'the keeper retrying by itself');
  assertGenuine(platform, tokenInKubeconfig(h.kubeconfig, user));
}

const transient: Array<[FailureKind, RegExp]> = [
  ['5xx', /sign-in service at 127\.0\.0\.1:\d+ had a temporary problem.*retried/],
  ['temporarily_unavailable', /sign-in service at 127\.0\.0\.1:\d+ had a temporary problem.*retried/],
  ['malformed', /sign-in service at 127\.0\.0\.1:\d+ had a temporary problem \(malformed response.*retried/],
  ['reset', /Cannot reach the sign-in service at 127\.0\.0\.1:\d+.*retried/],
];

for (const [kind, expected] of transient) {
  test(`refresh fault ${kind}: retrying with a readable reason, kubeconfig untouched, the keeper's retry succeeds`, async () => {
    const h = await signedIn();
    try {
      await failThenRecover(h, () => platform.controls.failNext(kind, 1), () => undefined, expected);
    } finally {
      h.service.dispose();
    }
  });
}

test('a latency spike under the timeout only slows the refresh; one past it is a transient fault', async () => {
  const h = await signedIn(alice, { requestTimeoutMs: 2_000 });
  try {
    const tokenBefore = tokenInKubeconfig(h.kubeconfig, user);
    platform.controls.latencyMs = 600;
    await h.service.refresh(context);
    platform.controls.latencyMs = 0;
    assert.equal(stateOf(h.service, context).kind, 'signedIn');
    assert.notEqual(tokenInKubeconfig(h.kubeconfig, user), tokenBefore, 'the slow refresh still wrote a new token');

    await failThenRecover(
      h,
      () => (platform.controls.latencyMs = 4_000),
      () => (platform.controls.latencyMs = 0),
      /Cannot reach the sign-in service at 127\.0\.0\.1:\d+ \(it did not answer in time\).*retried/,
    );
  } finally {
    platform.controls.latencyMs = 0;
    h.service.dispose();
  }
});

test('a certificate the engine does not trust fails the refresh without a write, and a trusted one recovers', async () => {
  const first = await signedIn();
  first.service.dispose();
  // The same stores and file after a restart, with an engine that trusts a different CA: what a user behind
  // an intercepting proxy, or facing an impostor, sees.
  const distrusting = harness({ ca: [otherCaPem], kubeconfig: first.kubeconfig, text: undefined, reuse: first });
  const before = readFileSync(first.kubeconfig);
  try {
    await distrusting.service.reload();
    assert.equal(stateOf(distrusting.service, context).kind, 'signedIn');
    await distrusting.service.refresh(context);
    const failed = stateOf(distrusting.service, context);
    assert.equal(failed.kind, 'retrying', JSON.stringify(failed));
    if (failed.kind === 'retrying') assertHumanReason(failed.reason, first.kubeconfig, /sign-in service at 127\.0\.0\.1:\d+ presented a certificate this machine does not trust \([A-Z_]*(?:CERT|VERIFY)[A-Z_]*\).*proxy/);
    assert.deepEqual(readFileSync(first.kubeconfig), before, 'nothing was written');
  } finally {
    distrusting.service.dispose();
  }
  const trusting = harness({ kubeconfig: first.kubeconfig, text: undefined, reuse: first });
  try {
    await trusting.service.reload();
    await trusting.service.refresh(context);
    assert.equal(stateOf(trusting.service, context).kind, 'signedIn');
    assert.notDeepEqual(readFileSync(first.kubeconfig), before);
    assertGenuine(platform, tokenInKubeconfig(first.kubeconfig, user));
  } finally {
    trusting.service.dispose();
  }
});

test('a revoked refresh token asks for a new sign-in, writes nothing, stays put, and a new sign-in recovers', async () => {
  const h = await signedIn(bob);
  try {
    const before = readFileSync(h.kubeconfig);
    platform.controls.revokeRefreshTokens(bob);
    await h.service.refresh(context);
    const state = stateOf(h.service, context);
    assert.equal(state.kind, 'needsSignIn', JSON.stringify(state));
    if (state.kind === 'needsSignIn') assertHumanReason(state.reason, h.kubeconfig, /no longer valid.*Sign in again/);
    await h.service.refresh(context);
    assert.equal(stateOf(h.service, context).kind, 'needsSignIn', 'trying again does not pretend to succeed');
    assert.deepEqual(readFileSync(h.kubeconfig), before, 'the kubeconfig keeps every byte');

    await h.service.signIn(context, approvingPrompt(platform, bob));
    assert.equal(stateOf(h.service, context).kind, 'signedIn');
    assertGenuine(platform, tokenInKubeconfig(h.kubeconfig, user));
  } finally {
    h.service.dispose();
  }
});
