// The session service with every real part under it: the kubeconfig engine on real files, the sign-in
// engine through real MSAL against the identity platform double, and the keeper on real timers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthEngine } from '../../../src/core/auth';
import type { SignInUi } from '../../../src/core/auth/methods';
import { deviceCodeMethod } from '../../../src/core/auth/device-code';
import type { DeviceCodeInfo, Logger } from '../../../src/core/ports';
import { systemClock } from '../../../src/core/ports';
import { SessionRecordStore } from '../../../src/core/session/records';
import { SessionService, type SessionSettings, type StateStore } from '../../../src/core/session/service';
import { demo, startIdentityPlatform, type IdentityPlatform } from '../../support/identity-platform';
import { azNames, azSkeleton } from '../../support/kubeconfig-fixtures';
import { MemorySecretStore } from '../../support/memory-secret-store';
import { deviceCodeUi } from '../../support/sign-in-ui';
import { createTestCa } from '../../support/tls';
import { sleep, waitFor } from '../../support/wait-for';

const alice = 'alice@contoso.onmicrosoft.com';

let workDir: string;
let platform: IdentityPlatform;
let caPem: string;
const logged: string[] = [];

const recordingLogger: Logger = {
  trace: (message) => logged.push(message),
  debug: (message) => logged.push(message),
  info: (message) => logged.push(message),
  warn: (message) => logged.push(message),
  error: (message) => logged.push(message),
};

class MemoryState implements StateStore {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    this.values.set(key, JSON.parse(JSON.stringify(value)));
  }
}

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'aks-signin-session-'));
  const ca = createTestCa(join(workDir, 'ca'));
  caPem = ca.caPem;
  platform = await startIdentityPlatform({ tls: { ...ca.serverCertificate, ca: ca.caPem } });
  platform.controls.pollIntervalSeconds = 1;
});

after(async () => {
  await platform.close();
  rmSync(workDir, { recursive: true, force: true });
});

interface Harness {
  service: SessionService;
  kubeconfig: string;
  original: string;
  secrets: MemorySecretStore;
  state: MemoryState;
  records: SessionRecordStore;
  settings: SessionSettings;
  shownCodes: DeviceCodeInfo[];
  approvingPrompt(username?: string, decision?: 'approve' | 'decline'): SignInUi;
}

let fileCounter = 0;

function harness(text: string, overrides: Partial<SessionSettings> = {}, kubectlMinor?: number, reuse?: Pick<Harness, 'secrets' | 'state' | 'kubeconfig'>): Harness {
  const kubeconfig = reuse?.kubeconfig ?? join(workDir, `config-${++fileCounter}`);
  if (!reuse) writeFileSync(kubeconfig, text, { mode: 0o600 });
  const secrets = reuse?.secrets ?? new MemorySecretStore();
  const state = reuse?.state ?? new MemoryState();
  const settings: SessionSettings = {
    kubeconfigPaths: [kubeconfig],
    credentialFormat: 'auto',
    refreshBeforeMinutes: 10,
    authorityHost: platform.url,
    ...overrides,
  };
  const auth = new AuthEngine({ secretStore: secrets, logger: recordingLogger, ca: [caPem] });
  const records = new SessionRecordStore({ dir: `${kubeconfig}.sessions`, clock: systemClock, logger: recordingLogger });
  const service = new SessionService({
    methods: new Map([['deviceCode', deviceCodeMethod(() => auth)]]),
    clock: systemClock,
    logger: recordingLogger,
    records,
    legacyState: state,
    settings: () => settings,
    kubectlMinor: async () => kubectlMinor,
  });
  const shownCodes: DeviceCodeInfo[] = [];
  return {
    service,
    kubeconfig,
    original: text,
    secrets,
    state,
    records,
    settings,
    shownCodes,
    approvingPrompt: (username = alice, decision = 'approve') =>
      deviceCodeUi((info) => {
        shownCodes.push(info);
        void platform.completeDeviceLogin(info.userCode, username, decision);
      }),
  };
}

const skeleton = (format: 'exec-kubelogin' | 'auth-provider', contexts = 1) =>
  azSkeleton({ server: 'https://127.0.0.1:6443', format, contexts, tenantId: demo.CONTOSO_TENANT });

function stateOf(service: SessionService, contextName: string) {
  const entry = service.entries().find((candidate) => candidate.context.name === contextName);
  assert.ok(entry, `context ${contextName} is listed`);
  return entry.state;
}

test('an exec-kubelogin skeleton is signed in with the device code and gets the token form', async () => {
  const h = harness(skeleton('exec-kubelogin'));
  await h.service.reload();
  const { context } = azNames(0);
  assert.equal(stateOf(h.service, context).kind, 'signedOut');

  const outcome = await h.service.signIn(context, h.approvingPrompt());
  assert.equal(outcome.account, alice);
  assert.equal(outcome.format, 'token');
  assert.match(outcome.formatReason, /kubelogin/);
  assert.equal(h.shownCodes.length, 1);
  assert.ok(h.shownCodes[0]!.verificationUri.startsWith(platform.url));

  const written = readFileSync(h.kubeconfig, 'utf8');
  assert.match(written, /^ {4}token: "?eyJ/m, 'user.token holds a JWT');
  assert.doesNotMatch(written, /command: kubelogin\n/, 'the exec block is replaced, kept only inside our extension');
  await h.service.reload();
  const state = stateOf(h.service, context);
  assert.equal(state.kind, 'signedIn');
  assert.ok(state.kind === 'signedIn' && state.expiresOn.getTime() > Date.now() + 50 * 60_000);
  assert.equal((await h.records.all()).size, 1, 'the session record is kept for the next start and for other windows');
  h.service.dispose();
});

test('users that share tenant and client are signed in together, and sign-out restores every byte', async () => {
  const h = harness(skeleton('exec-kubelogin', 3));
  await h.service.reload();
  const outcome = await h.service.signIn(azNames(1).context, h.approvingPrompt());
  assert.deepEqual(outcome.alsoSignedIn.sort(), [azNames(0).context, azNames(2).context].sort());
  const codeRequests = platform.requests.filter((request) => request.path.endsWith('/devicecode')).length;
  await h.service.reload();
  for (let i = 0; i < 3; i++) assert.equal(stateOf(h.service, azNames(i).context).kind, 'signedIn');

  for (let i = 0; i < 3; i++) await h.service.signOut(azNames(i).context);
  assert.equal(readFileSync(h.kubeconfig, 'utf8'), h.original, 'the file is byte for byte the skeleton again');
  await h.service.reload();
  for (let i = 0; i < 3; i++) assert.equal(stateOf(h.service, azNames(i).context).kind, 'signedOut');
  assert.equal(platform.requests.filter((request) => request.path.endsWith('/devicecode')).length, codeRequests, 'no further prompts were needed');
  const cache = [...h.secrets.values.values()].join('');
  assert.doesNotMatch(cache, /"RefreshToken":\{"[^}]/, 'the account left the token cache');
  h.service.dispose();
});

test('auto keeps the legacy form for an auth-provider skeleton when kubectl reads it, and writes token when it does not', async () => {
  const legacy = harness(skeleton('auth-provider'), {}, 20);
  await legacy.service.reload();
  const first = await legacy.service.signIn(azNames(0).context, legacy.approvingPrompt());
  assert.equal(first.format, 'legacy');
  const text = readFileSync(legacy.kubeconfig, 'utf8');
  for (const key of ['access-token', 'refresh-token', 'expires-in', 'expires-on', 'apiserver-id', 'client-id', 'tenant-id', 'environment', 'config-mode']) {
    assert.match(text, new RegExp(`^ {8}${key}: "?'?\\S`, 'm'), `${key} is written`);
  }
  legacy.service.dispose();

  const modern = harness(skeleton('auth-provider'), {}, 33);
  await modern.service.reload();
  const second = await modern.service.signIn(azNames(0).context, modern.approvingPrompt());
  assert.equal(second.format, 'token');
  assert.match(second.formatReason, /1\.33/);
  assert.doesNotMatch(readFileSync(modern.kubeconfig, 'utf8'), /^ {4}auth-provider:/m, 'kubectl 1.26+ refuses the block even beside a token');
  modern.service.dispose();
});

test('Refresh Tokens Now writes a new token; a revoked refresh token asks for a new sign-in', async () => {
  const h = harness(skeleton('exec-kubelogin'));
  await h.service.reload();
  const { context } = azNames(0);
  await h.service.signIn(context, h.approvingPrompt());
  const before = readFileSync(h.kubeconfig, 'utf8');
  await sleep(1100); // a new iat, so the new token differs
  await h.service.refresh(context);
  const after = readFileSync(h.kubeconfig, 'utf8');
  assert.notEqual(after, before, 'the token changed');
  assert.equal(after.split('\n').filter((line, i) => line !== before.split('\n')[i]).length, 1, 'only the token line changed');

  platform.controls.revokeRefreshTokens(alice);
  await h.service.refresh(context);
  const state = stateOf(h.service, context);
  assert.equal(state.kind, 'needsSignIn');
  assert.match(state.kind === 'needsSignIn' ? state.reason : '', /sign in again/i);
  assert.equal(readFileSync(h.kubeconfig, 'utf8'), after, 'a failed refresh writes nothing');
  h.service.dispose();
});

test('fields another program dropped are written back, and a restart picks the sessions up again', async () => {
  const h = harness(skeleton('exec-kubelogin'));
  await h.service.reload();
  const { context } = azNames(0);
  await h.service.signIn(context, h.approvingPrompt());
  h.service.dispose();

  writeFileSync(h.kubeconfig, h.original); // as `az aks get-credentials --overwrite-existing` would
  const restarted = harness('', {}, undefined, h);
  await restarted.service.reload();
  await waitFor(() => /^ {4}token: /m.test(readFileSync(h.kubeconfig, 'utf8')), 5_000, 'the token being written back');
  assert.match(readFileSync(h.kubeconfig, 'utf8'), /^ {4}token: "?eyJ/m, 'the token is back without a new sign-in');
  await restarted.service.reload();
  assert.equal(stateOf(restarted.service, context).kind, 'signedIn');
  restarted.service.dispose();
});

test('an older token put back by another program is replaced by a current one', async () => {
  const h = harness(skeleton('exec-kubelogin'));
  await h.service.reload();
  const { context } = azNames(0);
  await h.service.signIn(context, h.approvingPrompt());
  const withFirstToken = readFileSync(h.kubeconfig, 'utf8');
  await sleep(1100); // a later exp, so the tokens' ages differ
  await h.service.refresh(context);
  const refreshed = readFileSync(h.kubeconfig, 'utf8');
  assert.notEqual(refreshed, withFirstToken);

  writeFileSync(h.kubeconfig, withFirstToken); // as kubectl does when it rewrites from a stale read
  await h.service.reload();
  await waitFor(() => readFileSync(h.kubeconfig, 'utf8') !== withFirstToken, 5_000, 'the older token being replaced');
  const restored = readFileSync(h.kubeconfig, 'utf8');
  assert.notEqual(restored, withFirstToken, 'the older token did not stay');
  await h.service.reload();
  const state = stateOf(h.service, context);
  assert.equal(state.kind, 'signedIn');
  h.service.dispose();
});

test('a newer token that is not ours is left where it is', async () => {
  const h = harness(skeleton('exec-kubelogin'));
  await h.service.reload();
  const { context } = azNames(0);
  await h.service.signIn(context, h.approvingPrompt());
  const payload = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 7200 })).toString('base64url');
  const foreign = readFileSync(h.kubeconfig, 'utf8').replace(/^( {4}token: ).*$/m, `$1"eyJhbGciOiJSUzI1NiJ9.${payload}.c2lnbmF0dXJl"`);
  writeFileSync(h.kubeconfig, foreign); // e.g. the user signed in with another tool meanwhile
  await h.service.reload();
  await sleep(1000);
  assert.equal(readFileSync(h.kubeconfig, 'utf8'), foreign);
  h.service.dispose();
});

test('a declined sign-in leaves the kubeconfig untouched and the context signed out', async () => {
  const h = harness(skeleton('exec-kubelogin'));
  await h.service.reload();
  const { context } = azNames(0);
  await assert.rejects(h.service.signIn(context, h.approvingPrompt(alice, 'decline')), (error: Error & { kind?: string }) => {
    assert.equal(error.kind, 'declined');
    return true;
  });
  assert.equal(readFileSync(h.kubeconfig, 'utf8'), h.original);
  assert.equal(stateOf(h.service, context).kind, 'signedOut');
  h.service.dispose();
});

test('a malformed kubeconfig is reported, not half-read, and a missing one says so', async () => {
  const broken = harness('apiVersion: v1\nusers:\n- name: a\n  user: {token: [unclosed\n');
  await broken.service.reload();
  assert.equal(broken.service.kubeconfig.kind, 'invalid');
  assert.deepEqual(broken.service.entries(), []);
  await assert.rejects(broken.service.signIn('anything', broken.approvingPrompt()), /kubeconfig|YAML/i);
  broken.service.dispose();

  const missing = harness('', { kubeconfigPaths: [join(workDir, 'does-not-exist')] });
  await missing.service.reload();
  assert.equal(missing.service.kubeconfig.kind, 'missing');
  missing.service.dispose();
});

test('no token reached a log line', () => {
  assert.ok(logged.length > 0);
  for (const line of logged) assert.doesNotMatch(line, /eyJ[A-Za-z0-9_-]{10,}\.|refresh_token=[^[]/, line);
});
