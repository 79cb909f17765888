// Sessions that hold: each way a person signed in once stopped being signed in (or got the wrong token
// back) is played here against the session service with every real part under it: the kubeconfig engine on
// real files, real MSAL against the identity platform double, the keeper on real timers, and the session
// store shared through a real folder. Two services over one SecretStore and one store folder are two
// VS Code windows of one machine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheSecretKey } from '../../src/core/auth';
import { identityKey } from '../../src/core/session/records';
import { demo, startIdentityPlatform, type IdentityPlatform } from '../support/identity-platform';
import { azNames, azSkeleton } from '../support/kubeconfig-fixtures';
import { createTestCa } from '../support/tls';
import { deviceCodeUi } from '../support/sign-in-ui';
import { sleep } from '../support/wait-for';
import { approvingPrompt, assertGenuine, recordingLogger, sessionHarness, stateOf, tokenInKubeconfig, waitFor, type HarnessOptions, type SessionHarness } from './session-harness';

const alice = 'alice@contoso.onmicrosoft.com';
const bob = 'bob@contoso.onmicrosoft.com';
const OTHER_CLIENT_ID = '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const { context, user } = azNames(0);

let workDir: string;
let platform: IdentityPlatform;
let caPem: string;
const logged: string[] = [];
let fileCounter = 0;
const open: SessionHarness[] = [];

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'aks-signin-sessions-hold-'));
  const ca = createTestCa(join(workDir, 'ca'));
  caPem = ca.caPem;
  platform = await startIdentityPlatform({ tls: { ...ca.serverCertificate, ca: ca.caPem } });
  platform.controls.pollIntervalSeconds = 1;
});

after(async () => {
  for (const h of open) h.dispose();
  await platform.close();
  rmSync(workDir, { recursive: true, force: true });
});

const skeleton = (contexts = 1, format: 'exec-kubelogin' | 'auth-provider' = 'exec-kubelogin', extra: Parameters<typeof azSkeleton>[0] extends infer O ? Partial<O> : never = {}) =>
  azSkeleton({ server: 'https://127.0.0.1:6443', format, contexts, tenantId: demo.CONTOSO_TENANT, ...extra });

function harness(overrides: Partial<HarnessOptions> = {}): SessionHarness {
  const h = sessionHarness({
    platform,
    ca: [caPem],
    logger: recordingLogger(logged),
    kubeconfig: join(workDir, `config-${++fileCounter}`),
    text: skeleton(),
    ...overrides,
  });
  open.push(h);
  return h;
}

/** A second window on the same machine: the same kubeconfig, SecretStorage and session store folder. */
function secondWindow(first: SessionHarness, overrides: Partial<HarnessOptions> = {}): SessionHarness {
  return harness({ kubeconfig: first.kubeconfig, text: undefined, reuse: first, settings: { ...first.settings }, ...overrides });
}

async function signedIn(h: SessionHarness, contextName = context, username = alice): Promise<void> {
  await h.service.reload();
  await h.service.signIn(contextName, approvingPrompt(platform, username));
  assertGenuine(platform, tokenInKubeconfig(h.kubeconfig, user));
}

const successfulRefreshes = () => platform.requests.filter((request) => request.grantType === 'refresh_token' && request.status === 200).length;
const failedRefreshes = () => platform.requests.filter((request) => request.grantType === 'refresh_token' && request.status >= 400).length;

function claimsOf(token: string | undefined): Record<string, unknown> {
  assert.ok(token, 'a token is in the file');
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

test('an editor saving by truncate-and-write does not forget the session; a user removed for good is forgotten', async () => {
  const h = harness({ forgetAfterMs: 1_500 });
  await signedIn(h);
  const copy = `${h.kubeconfig}.copy`;
  // cp config c; : > config; sleep 1; cp c config — with the file watcher's reload at each step.
  copyFileSync(h.kubeconfig, copy);
  writeFileSync(h.kubeconfig, '');
  await h.service.reload();
  await sleep(1_000);
  copyFileSync(copy, h.kubeconfig);
  await h.service.reload();
  await sleep(2_000);
  await h.service.reload();
  assert.equal(stateOf(h.service, context).kind, 'signedIn', 'still signed in after the editor saved');
  assert.equal((await h.records.all()).size, 1, 'the session record survived');
  await h.service.refresh(context);
  assert.equal(stateOf(h.service, context).kind, 'signedIn', 'and it is still kept current');

  // The positive control: the same user gone from a whole file that stays as it is is forgotten.
  writeFileSync(h.kubeconfig, 'apiVersion: v1\nkind: Config\nusers: []\n');
  await h.service.reload();
  assert.equal((await h.records.all()).size, 1, 'not forgotten on the first read without it');
  await waitFor(async () => (await h.records.all()).size === 0, 10_000, 'the session of a user removed for good being forgotten');
});

test('a file of a KUBECONFIG list moved away for a second keeps its users signed in', async () => {
  const first = join(workDir, `list-a-${++fileCounter}`);
  writeFileSync(first, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n', { mode: 0o600 });
  const h = harness({ settings: { kubeconfigPaths: [first, join(workDir, `list-b-${fileCounter}`)] }, kubeconfig: join(workDir, `list-b-${fileCounter}`), forgetAfterMs: 1_000 });
  await signedIn(h);
  renameSync(h.kubeconfig, `${h.kubeconfig}.away`);
  await h.service.reload();
  await sleep(2_000);
  await h.service.reload();
  renameSync(`${h.kubeconfig}.away`, h.kubeconfig);
  await h.service.reload();
  assert.equal((await h.records.all()).size, 1);
  assert.equal(stateOf(h.service, context).kind, 'signedIn');
});

test('Sign Out during a refresh stays signed out: the refresh does not bring the token back', async () => {
  const h = harness();
  await signedIn(h);
  await sleep(1_100);
  platform.controls.latencyMs = 1_500;
  try {
    const refreshing = h.service.refresh(context);
    await sleep(300);
    await h.service.signOut(context);
    await refreshing;
    await sleep(1_000);
    await h.service.reload();
  } finally {
    platform.controls.latencyMs = 0;
  }
  assert.equal(readFileSync(h.kubeconfig, 'utf8'), skeleton(), 'the skeleton, byte for byte');
  assert.equal(stateOf(h.service, context).kind, 'signedOut');
  assert.equal((await h.records.all()).size, 0);
});

test('signing in as another account while a refresh waits does not write the old account back', async () => {
  const h = harness();
  await signedIn(h, context, alice);
  await sleep(1_100);
  let code: string | undefined;
  const signingIn = h.service.signIn(context, deviceCodeUi((info) => void (code = info.userCode)));
  await waitFor(() => code !== undefined, 10_000, 'the second sign-in showing its code');
  const refreshing = h.service.refresh(context);
  await platform.completeDeviceLogin(code!, bob);
  await signingIn;
  await refreshing;
  await h.service.reload();
  assert.equal(claimsOf(tokenInKubeconfig(h.kubeconfig, user))['upn'], bob, 'the file holds the new account');
  const state = stateOf(h.service, context);
  assert.ok(state.kind === 'signedIn' && state.account === bob, `signed in as bob: ${JSON.stringify(state)}`);
  await h.service.refresh(context);
  assert.equal(claimsOf(tokenInKubeconfig(h.kubeconfig, user))['upn'], bob, 'and its next refresh is bob\'s too');
});

test('a sign-in waiting for its code stalls no refresh, and a second sign-in still gets its code', async () => {
  const h = harness({ text: skeleton(3) });
  await signedIn(h);
  await sleep(1_100);
  const codes: string[] = [];
  const controller = new AbortController();
  // Contexts 1 and 2 share the AKS-managed client id with context 0; nobody approves their codes.
  await h.service.signOut(azNames(1).context);
  await h.service.signOut(azNames(2).context);
  const waiting = [1, 2].map((i) => h.service.signIn(azNames(i).context, deviceCodeUi((info) => void codes.push(info.userCode)), { signal: controller.signal }).catch((error: Error) => error));
  await waitFor(() => codes.length === 2, 10_000, 'both sign-ins showing a code');
  const before = tokenInKubeconfig(h.kubeconfig, user);
  const started = Date.now();
  await h.service.refresh(context);
  assert.notEqual(tokenInKubeconfig(h.kubeconfig, user), before, 'context 0 was refreshed while two codes waited');
  assert.ok(Date.now() - started < 10_000);
  controller.abort();
  for (const outcome of await Promise.all(waiting)) assert.match(String(outcome), /cancelled/);
});

test('two windows: one refresh per lifetime, nobody spends the other\'s refresh token, both show the new expiry', async () => {
  platform.controls.singleUseRefreshTokens = true;
  try {
    const a = harness();
    await signedIn(a);
    const b = secondWindow(a);
    await b.service.reload();
    assert.equal(stateOf(b.service, context).kind, 'signedIn', 'the second window knows the session without a sign-in of its own');
    await sleep(1_100);
    const ok = successfulRefreshes();
    const failed = failedRefreshes();
    await Promise.all([a.service.refresh(context), b.service.refresh(context)]);
    await waitFor(async () => {
      const [sa, sb] = [stateOf(a.service, context), stateOf(b.service, context)];
      return sa.kind === 'signedIn' && sb.kind === 'signedIn' && sa.expiresOn.getTime() === sb.expiresOn.getTime();
    }, 10_000, 'both windows showing the same new expiry');
    assert.equal(successfulRefreshes() - ok, 1, 'exactly one refresh for two windows');
    assert.equal(failedRefreshes() - failed, 0, 'no spent refresh token was replayed');
    assertGenuine(platform, tokenInKubeconfig(a.kubeconfig, user));
  } finally {
    platform.controls.singleUseRefreshTokens = false;
  }
});

test('two windows: a Sign Out in one is not undone by the other', async () => {
  const a = harness();
  await signedIn(a);
  const b = secondWindow(a);
  await b.service.reload();
  await b.service.signOut(context);
  // The other window's file watcher sees the fields go.
  await a.service.reload();
  await sleep(1_500);
  await a.service.reload();
  assert.equal(readFileSync(a.kubeconfig, 'utf8'), skeleton(), 'still the skeleton');
  assert.equal(stateOf(a.service, context).kind, 'signedOut');
});

test('a window closed mid-way hands over, and a lease left by a dead window lapses by itself', async () => {
  const a = harness({ leaseMs: 1_500 });
  await signedIn(a);
  const b = secondWindow(a, { leaseMs: 1_500 });
  await b.service.reload();
  a.dispose();
  await sleep(1_100);
  const ok = successfulRefreshes();
  await b.service.refresh(context);
  assert.equal(successfulRefreshes() - ok, 1, 'the remaining window refreshed');

  // A window that died holding the lease: nobody renews it.
  const key = identityKey(b.kubeconfig, user);
  assert.ok((await b.records.tryLease(key, 'a window that died', 1_500)).acquired);
  await sleep(1_100);
  const before = successfulRefreshes();
  await b.service.refresh(context);
  assert.equal(successfulRefreshes(), before, 'not while the lease is held');
  await waitFor(() => successfulRefreshes() > before, 10_000, 'the refresh after the dead window\'s lease lapsed');
  assert.equal(stateOf(b.service, context).kind, 'signedIn');
});

test('a kubeconfig made invalid during a refresh is retried, not "sign in again", and heals when fixed', async () => {
  const h = harness();
  await signedIn(h);
  const good = readFileSync(h.kubeconfig, 'utf8');
  const before = tokenInKubeconfig(h.kubeconfig, user);
  writeFileSync(h.kubeconfig, `${good}users: [broken\n`);
  await sleep(1_100);
  await h.service.refresh(context);
  const failing = stateOf(h.service, context);
  assert.equal(failing.kind, 'retrying', JSON.stringify(failing));
  assert.equal(failing.kind === 'retrying' && failing.remedy.kind, 'fixFile');
  writeFileSync(h.kubeconfig, good);
  await h.service.reload();
  await waitFor(() => stateOf(h.service, context).kind === 'signedIn' && tokenInKubeconfig(h.kubeconfig, user) !== before, 15_000, 'the refresh healing once the file is fixed');
  assertGenuine(platform, tokenInKubeconfig(h.kubeconfig, user));
});

test('a bind-mounted kubeconfig (a dev container), where rename gives EBUSY, is refreshed in place: never "sign in again"', async (t) => {
  const h = harness();
  await signedIn(h);
  const before = tokenInKubeconfig(h.kubeconfig, user);
  const hostFile = `${h.kubeconfig}.host`;
  copyFileSync(h.kubeconfig, hostFile);
  try {
    // The host's file bind-mounted onto the container's path: rename over it fails with EBUSY.
    execFileSync('mount', ['--bind', hostFile, h.kubeconfig], { stdio: 'ignore' });
  } catch {
    if (process.env.CI) assert.fail('mount --bind is needed for this test in CI (it runs as root)');
    t.skip('mount --bind is not permitted here');
    return;
  }
  try {
    await sleep(1_100);
    await h.service.refresh(context);
    const state = stateOf(h.service, context);
    assert.equal(state.kind, 'signedIn', JSON.stringify(state));
    const after = tokenInKubeconfig(h.kubeconfig, user);
    assert.notEqual(after, before, 'the new token is in the mounted file');
    assertGenuine(platform, after);
  } finally {
    execFileSync('umount', [h.kubeconfig], { stdio: 'ignore' });
  }
  assert.notEqual(tokenInKubeconfig(hostFile, user), before, 'the host\'s own file got it');
});

test('a lock our own writer left when its window was killed mid-write is removed, and the refresh goes on; kubectl\'s own stays', async () => {
  const h = harness();
  await signedIn(h);
  const before = tokenInKubeconfig(h.kubeconfig, user);
  // A writer of ours that died holding the lock: its pid is gone (a child that has exited) on this host.
  const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
  writeFileSync(`${h.kubeconfig}.lock`, JSON.stringify({ pid: dead, host: hostname(), tool: 'aks-signin' }));
  await sleep(1_100);
  await h.service.refresh(context);
  assert.equal(stateOf(h.service, context).kind, 'signedIn');
  assert.notEqual(tokenInKubeconfig(h.kubeconfig, user), before, 'refreshed past the dead writer\'s lock');
  assert.ok(!existsSync(`${h.kubeconfig}.lock`));
  // An empty lock, as kubectl leaves one: nobody can say its writer is gone, so it is not taken away.
  writeFileSync(`${h.kubeconfig}.lock`, '');
  await sleep(1_100);
  await h.service.refresh(context);
  assert.ok(existsSync(`${h.kubeconfig}.lock`), 'kubectl\'s lock is left for the person');
  assert.notEqual(stateOf(h.service, context).kind, 'needsSignIn');
  rmSync(`${h.kubeconfig}.lock`);
});

test('auto leaves the legacy form once the kubectl in use is 1.26 or newer', async () => {
  const minor = { value: 20 as number | undefined };
  const h = harness({ text: skeleton(1, 'auth-provider'), kubectlMinor: () => minor.value });
  await h.service.reload();
  const outcome = await h.service.signIn(context, approvingPrompt(platform, alice));
  assert.equal(outcome.format, 'legacy');
  minor.value = 33;
  h.service.settingsChanged();
  await sleep(1_100);
  await h.service.refresh(context);
  const text = readFileSync(h.kubeconfig, 'utf8');
  assert.doesNotMatch(text, /^ {4}auth-provider:/m, 'the auth-provider block, which kubectl 1.33 refuses, is gone');
  assert.match(text, /^ {4}token: "?eyJ/m);
  assertGenuine(platform, tokenInKubeconfig(h.kubeconfig, user));
  const state = stateOf(h.service, context);
  assert.ok(state.kind === 'signedIn' && state.format === 'token');

  const none = harness({ text: skeleton(1, 'auth-provider') });
  await none.service.reload();
  const noKubectl = await none.service.signIn(context, approvingPrompt(platform, alice));
  assert.equal(noKubectl.format, 'token', 'with no kubectl to ask, the form every kubectl reads');
});

test('a legacy entry while kubectl is 1.26+ is flagged, and Switch to Token Form rewrites it and keeps it so', async () => {
  const h = harness({ text: skeleton(1, 'auth-provider'), kubectlMinor: 33, settings: { credentialFormat: 'legacy' } });
  await h.service.reload();
  const outcome = await h.service.signIn(context, approvingPrompt(platform, alice));
  assert.equal(outcome.format, 'legacy', 'the setting asked for it');
  await waitFor(() => h.service.entries()[0]?.warning !== undefined, 5_000, 'the entry being flagged');
  assert.deepEqual(h.service.entries()[0]?.warning, { kind: 'legacyRefused', kubectlMinor: 33 });
  await h.service.changeFormat(context, 'token');
  assert.match(readFileSync(h.kubeconfig, 'utf8'), /^ {4}token: "?eyJ/m);
  assert.doesNotMatch(readFileSync(h.kubeconfig, 'utf8'), /^ {4}auth-provider:/m);
  assert.equal(h.service.entries()[0]?.warning, undefined);
  await sleep(1_100);
  await h.service.refresh(context);
  assert.doesNotMatch(readFileSync(h.kubeconfig, 'utf8'), /^ {4}auth-provider:/m, 'a refresh keeps the form the person chose over the setting');
  assertGenuine(platform, tokenInKubeconfig(h.kubeconfig, user));
  await h.service.signOut(context);
  assert.equal(readFileSync(h.kubeconfig, 'utf8'), skeleton(1, 'auth-provider'), 'and Sign Out still restores the skeleton');
});

test('contexts sharing tenant and client that need a new sign-in are signed in with the one that did', async () => {
  const h = harness({ text: skeleton(2) });
  await signedIn(h);
  await h.service.reload();
  assert.equal(stateOf(h.service, azNames(1).context).kind, 'signedIn');
  platform.controls.revokeRefreshTokens(alice);
  await sleep(1_100);
  await h.service.refresh();
  for (const i of [0, 1]) assert.equal(stateOf(h.service, azNames(i).context).kind, 'needsSignIn');
  const outcome = await h.service.signIn(context, approvingPrompt(platform, alice));
  assert.deepEqual(outcome.alsoSignedIn, [azNames(1).context]);
  await h.service.reload();
  for (const i of [0, 1]) assert.equal(stateOf(h.service, azNames(i).context).kind, 'signedIn');
});

test('Sign Out forgets the account in its client id\'s cache even while another client id still has a session of it', async () => {
  const second = join(workDir, `other-client-${++fileCounter}`);
  writeFileSync(second, skeleton(1, 'exec-kubelogin', { clientId: OTHER_CLIENT_ID, clusterName: 'other' }), { mode: 0o600 });
  const h = harness();
  h.settings.kubeconfigPaths = [h.kubeconfig, second];
  await signedIn(h);
  await h.service.signIn(azNames(0, { clusterName: 'other' }).context, approvingPrompt(platform, alice));
  const accountsIn = (clientId: string) => Object.keys((JSON.parse(h.secrets.values.get(cacheSecretKey(clientId)) ?? '{}') as { Account?: object }).Account ?? {}).length;
  assert.equal(accountsIn(demo.AKS_CLIENT_APP_ID), 1);
  assert.equal(accountsIn(OTHER_CLIENT_ID), 1);
  await h.service.signOut(context);
  assert.equal(accountsIn(demo.AKS_CLIENT_APP_ID), 0, 'the refresh token of the signed-out client is gone');
  assert.equal(accountsIn(OTHER_CLIENT_ID), 1, 'the other client\'s session keeps its own');
});

test('a context whose user no kubeconfig defines is said to be so, not swapped for another', async () => {
  const h = harness({ text: skeleton(2).replace(`    user: ${azNames(0).user}\n  name: ${azNames(0).context}`, `    user: nobody\n  name: ${azNames(0).context}`) });
  await h.service.reload();
  assert.match(h.service.whyNotSignable(context) ?? '', /names the user "nobody", which no kubeconfig file defines/);
  assert.equal(h.service.whyNotSignable(azNames(1).context), undefined);
});

test('nothing logged carried a token', () => {
  assert.ok(logged.length > 0);
  for (const line of logged) assert.doesNotMatch(line, /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|0\.A[A-Za-z0-9_-]{20,}/, line);
});
