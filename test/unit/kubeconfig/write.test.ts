import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  KubeconfigError,
  clearCredentials,
  readKubeconfig,
  setCurrentContext,
  writeCredentials,
  type Credentials,
  type KubeconfigErrorKind,
  type UserCredential,
} from '../../../src/core/kubeconfig';
import { fakeJwt, fixture, scratchFolder } from './support';

const PROD = 'clusterUser_rg-prod_prod';
const STAGING = 'clusterUser_rg-staging_staging';
const LEGACY = 'clusterUser_rg-legacy_legacy-aad';
const expiresOn = new Date(1_900_000_000_000);

function credentials(format: Credentials['format'], marker = 'a'): Credentials {
  return {
    format,
    accessToken: fakeJwt({ exp: expiresOn.getTime() / 1000, tid: `tenant-from-token-${marker}` }),
    refreshToken: `refresh-${marker}-0.AXoA`,
    expiresOn,
    expiresInSeconds: 3599,
  };
}

function copyFixture(t: { after(fn: () => void): void }, name: string, transform: (text: string) => string = (text) => text): string {
  const file = join(scratchFolder(t), 'config');
  writeFileSync(file, transform(readFileSync(fixture(name), 'utf8')), { mode: 0o600 });
  return file;
}

function userBody(file: string, userName: string): Record<string, unknown> {
  const config = parse(readFileSync(file, 'utf8')) as { users: Array<{ name: string; user: Record<string, unknown> }> };
  const user = config.users.find((entry) => entry.name === userName);
  assert.ok(user, `user ${userName} is in ${file}`);
  return user.user;
}

async function credentialOf(file: string, userName: string): Promise<Extract<UserCredential, { kind: 'aks' }>> {
  const credential = (await readKubeconfig([file])).users.get(userName)?.credential;
  assert.equal(credential?.kind, 'aks');
  return credential as Extract<UserCredential, { kind: 'aks' }>;
}

/** Indices of lines that differ between two texts of the same line count prefix and suffix. */
function changedRegion(before: string, after: string): { from: number; beforeTo: number; afterTo: number } {
  const a = before.split('\n');
  const b = after.split('\n');
  let from = 0;
  while (from < a.length && a[from] === b[from]) from++;
  let tail = 0;
  while (tail < a.length - from && tail < b.length - from && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  return { from, beforeTo: a.length - tail, afterTo: b.length - tail };
}

function expectKind(kind: KubeconfigErrorKind, file?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof KubeconfigError, String(error));
    assert.equal(error.kind, kind, error.message);
    if (file !== undefined) assert.equal(error.file, file);
    return true;
  };
}

test('token form on an exec-kubelogin user replaces only the exec block and keeps the skeleton', async (t) => {
  const file = copyFixture(t, 'merged.yaml');
  const before = readFileSync(file, 'utf8');
  const written = credentials('token');
  await writeCredentials(file, PROD, written);
  const after = readFileSync(file, 'utf8');

  const body = userBody(file, PROD);
  assert.deepEqual(Object.keys(body), ['token', 'extensions']);
  assert.equal(body['token'], written.accessToken);
  const region = changedRegion(before, after);
  const lines = before.split('\n');
  assert.equal(lines[region.from - 1], '  user:', 'nothing above the user body changed');
  assert.equal(lines[region.beforeTo], '# converted with `kubelogin convert-kubeconfig`, which orders the flags its own way');

  const credential = await credentialOf(file, PROD);
  assert.equal(credential.format, 'token');
  assert.equal(credential.managed, true);
  assert.equal(credential.identity.tenantId, '5c1f2b8e-0d4f-4a57-9a2c-7f3b1a9e6d21');
  assert.equal(credential.identity.origin, 'exec-kubelogin');
  assert.deepEqual(credential.expiresOn, expiresOn);
  assert.ok(!existsSync(`${file}.lock`), 'the lock is released');

  await clearCredentials(file, PROD);
  assert.equal(readFileSync(file, 'utf8'), before);
});

test('legacy form writes all nine keys as quoted strings, with defaults for what the skeleton lacks', async (t) => {
  const file = copyFixture(t, 'merged.yaml');
  const before = readFileSync(file, 'utf8');
  const written = credentials('legacy');
  await writeCredentials(file, STAGING, written);
  const after = readFileSync(file, 'utf8');
  const body = userBody(file, STAGING);
  assert.equal(body['exec'], undefined, 'the exec block is replaced');
  assert.deepEqual(body['auth-provider'], {
    config: {
      'access-token': written.accessToken,
      'apiserver-id': '6dae42f8-4368-4678-94ff-3960e28e3630',
      'client-id': '80faf920-1908-4b52-b5ef-a8e7bedfc67a',
      'config-mode': '0',
      environment: 'AzureUSGovernmentCloud',
      'expires-in': '3599',
      'expires-on': '1900000000',
      'refresh-token': written.refreshToken,
      // The skeleton has no tenant; the token's tid is what client-go needs to refresh.
      'tenant-id': 'tenant-from-token-a',
    },
    name: 'azure',
  });
  for (const key of ['expires-in', 'expires-on', 'config-mode']) assert.match(after, new RegExp(`\\b${key}: "\\d+"`));
  const credential = await credentialOf(file, STAGING);
  assert.equal(credential.format, 'legacy');
  assert.deepEqual(credential.expiresOn, expiresOn);
  await clearCredentials(file, STAGING);
  assert.equal(readFileSync(file, 'utf8'), before);
});

test('the historic auth-provider skeleton keeps config-mode 1 and its own app ids in legacy form, and loses the block in token form', async (t) => {
  const file = copyFixture(t, 'merged.yaml');
  const before = readFileSync(file, 'utf8');
  await writeCredentials(file, LEGACY, credentials('legacy'));
  const config = (userBody(file, LEGACY)['auth-provider'] as { config: Record<string, string> }).config;
  assert.equal(config['config-mode'], '1');
  assert.equal(config['client-id'], '8d2e6f0a-7c1b-4a3d-9e5f-2b4c6d8e0f1a');
  assert.equal(config['tenant-id'], 'contoso.onmicrosoft.com');

  await writeCredentials(file, LEGACY, credentials('token', 'b'));
  const body = userBody(file, LEGACY);
  assert.deepEqual(Object.keys(body).sort(), ['extensions', 'token'], 'kubectl >= 1.26 refuses the auth-provider block even beside a token');
  const credential = await credentialOf(file, LEGACY);
  assert.deepEqual([credential.format, credential.identity.origin, credential.identity.configMode], ['token', 'auth-provider', '1']);
  await clearCredentials(file, LEGACY);
  assert.equal(readFileSync(file, 'utf8'), before);
});

test('a refresh replaces the token line in place and nothing else', async (t) => {
  const file = copyFixture(t, 'merged.yaml');
  await writeCredentials(file, PROD, credentials('token', 'first'));
  const first = readFileSync(file, 'utf8');
  const next = credentials('token', 'second');
  await writeCredentials(file, PROD, next);
  const second = readFileSync(file, 'utf8');
  const region = changedRegion(first, second);
  assert.equal(region.beforeTo - region.from, 1);
  assert.equal(region.afterTo - region.from, 1);
  assert.equal(second.split('\n')[region.from], `    token: "${next.accessToken}"`);
});

test('stale tokens from an old kubectl are not kept in the skeleton, so sign-out removes them', async (t) => {
  const file = copyFixture(t, 'merged.yaml', (text) =>
    text.replace("        config-mode: '1'\n", "        access-token: stale.access.token\n        config-mode: '1'\n        expires-in: \"3599\"\n        expires-on: \"1600000000\"\n        refresh-token: stale-refresh\n"),
  );
  const stale = await credentialOf(file, LEGACY);
  assert.equal(stale.format, 'legacy');
  assert.equal(stale.managed, false);
  await writeCredentials(file, LEGACY, credentials('token'));
  await clearCredentials(file, LEGACY);
  const text = readFileSync(file, 'utf8');
  assert.doesNotMatch(text, /stale/);
  assert.equal(text, readFileSync(fixture('merged.yaml'), 'utf8'));
});

test('sign-out of an entry we never wrote removes stale token fields and is a no-op otherwise', async (t) => {
  const file = copyFixture(t, 'merged.yaml', (text) => text.replace("        config-mode: '1'\n", "        access-token: stale.access.token\n        config-mode: '1'\n"));
  await clearCredentials(file, LEGACY);
  assert.equal(readFileSync(file, 'utf8'), readFileSync(fixture('merged.yaml'), 'utf8'));
  const before = readFileSync(file, 'utf8');
  const mtime = statSync(file).mtimeMs;
  await clearCredentials(file, PROD);
  assert.equal(readFileSync(file, 'utf8'), before);
  assert.equal(statSync(file).mtimeMs, mtime, 'an unchanged file is not rewritten');
});

test('CRLF files stay CRLF', async (t) => {
  const file = copyFixture(t, 'merged.yaml', (text) => text.replace(/\n/g, '\r\n'));
  const before = readFileSync(file, 'utf8');
  await writeCredentials(file, PROD, credentials('legacy'));
  const after = readFileSync(file, 'utf8');
  assert.doesNotMatch(after, /[^\r]\n/);
  assert.equal((await credentialOf(file, PROD)).format, 'legacy');
  await clearCredentials(file, PROD);
  assert.equal(readFileSync(file, 'utf8'), before);
});

test('a JSON kubeconfig stays JSON and round-trips', async (t) => {
  const file = copyFixture(t, 'flow.json');
  const before = readFileSync(file, 'utf8');
  const written = credentials('token');
  await writeCredentials(file, 'json-user', written);
  const json = JSON.parse(readFileSync(file, 'utf8')) as { users: Array<{ user: Record<string, unknown> }> };
  assert.equal(json.users[0]?.user['token'], written.accessToken);
  assert.equal(json.users[0]?.user['exec'], undefined);
  assert.deepEqual(json.users[1], { name: 'cert-user', user: { 'client-certificate': '/etc/kube/cert.pem', 'client-key': '/etc/kube/key.pem' } });
  assert.equal((await credentialOf(file, 'json-user')).format, 'token');
  await writeCredentials(file, 'json-user', credentials('legacy'));
  assert.equal((await credentialOf(file, 'json-user')).format, 'legacy');
  await clearCredentials(file, 'json-user');
  assert.equal(readFileSync(file, 'utf8'), before);
});

test('users that are not AKS, unknown users, duplicates and bad files are refused with the file untouched', async (t) => {
  const merged = copyFixture(t, 'merged.yaml');
  const cases: Array<[string, string, KubeconfigErrorKind]> = [
    [merged, 'kind-local', 'notAks'],
    [merged, 'eks-admin', 'notAks'],
    [merged, 'nobody', 'notFound'],
    [copyFixture(t, 'duplicate-user.yaml'), 'twice', 'duplicateName'],
    [copyFixture(t, 'malformed.yaml'), 'clusterUser_rg-prod_prod', 'malformed'],
    [copyFixture(t, 'not-kubeconfig.yaml'), 'anyone', 'notKubeconfig'],
    [join(scratchFolder(t), 'absent'), PROD, 'notFound'],
  ];
  for (const [file, userName, kind] of cases) {
    const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    const written = credentials('token');
    await assert.rejects(writeCredentials(file, userName, written), (error: unknown) => {
      expectKind(kind, file)(error);
      const message = (error as Error).message;
      assert.ok(!message.includes(written.accessToken) && !message.includes(written.refreshToken ?? '-'), 'no token in the message');
      assert.ok(message.includes(file), 'the message names the file');
      return true;
    });
    if (before !== undefined) assert.equal(readFileSync(file, 'utf8'), before);
    assert.ok(!existsSync(`${file}.lock`));
  }
  await assert.rejects(clearCredentials(merged, 'kind-local'), expectKind('notAks'));
});

test('a held lock makes the write wait, and a lock never released ends in a "locked" error naming the lock file', async (t) => {
  const file = copyFixture(t, 'merged.yaml');
  const before = readFileSync(file, 'utf8');
  writeFileSync(`${file}.lock`, '');
  const started = Date.now();
  await assert.rejects(writeCredentials(file, PROD, credentials('token'), { lockTimeoutMs: 150 }), (error: unknown) => {
    expectKind('locked', file)(error);
    assert.match((error as Error).message, new RegExp(`delete ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.lock`));
    return true;
  });
  assert.ok(Date.now() - started >= 150);
  assert.ok(existsSync(`${file}.lock`), 'a lock we do not own is never broken');
  assert.equal(readFileSync(file, 'utf8'), before);

  setTimeout(() => rmSync(`${file}.lock`), 100);
  await writeCredentials(file, PROD, credentials('token'), { lockTimeoutMs: 2000 });
  assert.equal((await credentialOf(file, PROD)).format, 'token');
});

test('concurrent writers to one file serialise on the lock and lose nothing', async (t) => {
  const file = copyFixture(t, 'merged.yaml');
  await Promise.all([
    writeCredentials(file, PROD, credentials('token', 'p')),
    writeCredentials(file, STAGING, credentials('legacy', 's')),
    writeCredentials(file, LEGACY, credentials('token', 'l')),
    setCurrentContext(file, 'staging'),
  ]);
  const view = await readKubeconfig([file]);
  assert.equal(view.currentContext, 'staging');
  assert.deepEqual(
    [PROD, STAGING, LEGACY].map((name) => (view.users.get(name)?.credential as { format: string }).format),
    ['token', 'legacy', 'token'],
  );
});

test('a token write narrows a group-readable file to 0600 once and says so; other writes keep the mode; writes go through a symlink to its target', async (t) => {
  const file = copyFixture(t, 'merged.yaml');
  chmodSync(file, 0o640);
  const link = join(scratchFolder(t), 'link-to-config');
  symlinkSync(file, link);
  const first = await writeCredentials(link, PROD, credentials('token'));
  assert.equal(first.tightenedModeFrom, 0o640, 'the caller is told, to log it once and say it');
  assert.ok(lstatSync(link).isSymbolicLink(), 'the symlink stays a symlink');
  assert.equal(statSync(file).mode & 0o7777, 0o600);
  assert.equal((await credentialOf(file, PROD)).format, 'token');
  assert.ok(!existsSync(`${link}.lock`));
  const second = await writeCredentials(link, PROD, credentials('token', 'again'));
  assert.equal(second.tightenedModeFrom, undefined, 'only the write that narrowed it says so');

  const shared = copyFixture(t, 'merged.yaml');
  chmodSync(shared, 0o644);
  assert.equal((await setCurrentContext(shared, 'staging')).tightenedModeFrom, undefined);
  assert.equal(statSync(shared).mode & 0o7777, 0o644, 'a file that receives no token keeps its mode');
  await writeCredentials(shared, PROD, credentials('legacy'));
  assert.equal(statSync(shared).mode & 0o7777, 0o600, 'the legacy form holds a refresh token too');
  chmodSync(shared, 0o644);
  await clearCredentials(shared, PROD);
  assert.equal(statSync(shared).mode & 0o7777, 0o644, 'sign-out keeps the mode it finds');
});

test('a read-only file is refused with the file untouched', async (t) => {
  if (process.getuid?.() === 0) return t.skip('root may write read-only files');
  const file = copyFixture(t, 'merged.yaml');
  chmodSync(file, 0o400);
  await assert.rejects(writeCredentials(file, PROD, credentials('token')), expectKind('readOnly', file));
});

test('setCurrentContext rewrites only the current-context line', async (t) => {
  const file = copyFixture(t, 'merged.yaml');
  const before = readFileSync(file, 'utf8');
  await setCurrentContext(file, 'legacy-aad');
  assert.equal(readFileSync(file, 'utf8'), before.replace('current-context: prod\n', 'current-context: legacy-aad\n'));
  const json = copyFixture(t, 'flow.json');
  await setCurrentContext(json, 'other');
  assert.equal((JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>)['current-context'], 'other');
});

test('block files laid out differently from az still patch without a full parse surprise', async (t) => {
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'users:',
    '  # indented list, user before name, quoted name',
    '  - user:',
    '        exec:',
    '            command: /usr/local/bin/kubelogin',
    '            args: ["get-token", "--server-id=6dae42f8-4368-4678-94ff-3960e28e3630"]',
    '# a comment at column 0 inside the entry',
    '            apiVersion: client.authentication.k8s.io/v1beta1',
    '        as: impersonated-admin',
    '    name: "quoted user"',
    '  - name: other',
    '    user: {token: plain}',
    '',
  ].join('\n');
  const file = join(scratchFolder(t), 'config');
  writeFileSync(file, text);
  await writeCredentials(file, 'quoted user', credentials('token'));
  const body = userBody(file, 'quoted user');
  assert.equal(body['as'], 'impersonated-admin', 'unknown keys in the entry stay');
  assert.equal(body['exec'], undefined);
  assert.match(readFileSync(file, 'utf8'), /^        token: "/m);
  assert.equal((await credentialOf(file, 'quoted user')).format, 'token');
  await clearCredentials(file, 'quoted user');
  assert.equal(readFileSync(file, 'utf8'), text);
});
