// Each way the engine used to make a kubeconfig unreadable, tried as a new user would: the write must
// either leave a file that reads back as the original plus what was meant, or be refused with the file
// byte for byte as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { KubeconfigError, clearCredentials, readKubeconfig, setCurrentContext, writeCredentials, type Credentials } from '../../../src/core/kubeconfig';
import { fakeJwt, scratchFolder } from './support';

const SERVER_ID = '6dae42f8-4368-4678-94ff-3960e28e3630';
const token: Credentials = { format: 'token', accessToken: fakeJwt({ exp: 1_900_000_000, tid: 't' }), expiresOn: new Date(1_900_000_000_000), expiresInSeconds: 3599 };

function fileWith(t: { after(fn: () => void): void }, content: string | Buffer, mode = 0o600): string {
  const file = join(scratchFolder(t), 'config');
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
  return file;
}

const kubelogin = (indent: string, args = `[get-token, --server-id, ${SERVER_ID}]`) =>
  [`${indent}exec:`, `${indent}  apiVersion: client.authentication.k8s.io/v1beta1`, `${indent}  args: ${args}`, `${indent}  command: kubelogin`].join('\n');

type Data = { users: Array<{ name: string; user: Record<string, unknown> }>; [key: string]: unknown };

function data(text: string): Data {
  const document = parseDocument(text, { merge: true });
  assert.deepEqual(document.errors.map((error) => error.message), [], 'the file still parses');
  return document.toJS() as Data;
}

/** The parsed file without one user's body, for comparing everything else. */
function withoutUser(value: Data, name: string): unknown {
  return { ...value, users: value.users.map((entry) => (entry.name === name ? { ...entry, user: '(target)' } : entry)) };
}

/** Asserts the write either refused (file untouched) or left a file that reads as the original plus the token. */
async function writeOrRefuse(file: string, user: string): Promise<'written' | KubeconfigError> {
  const before = readFileSync(file);
  try {
    await writeCredentials(file, user, token);
  } catch (error) {
    assert.ok(error instanceof KubeconfigError, String(error));
    assert.ok(readFileSync(file).equals(before), 'a refused write leaves every byte');
    return error;
  }
  const after = readFileSync(file, 'utf8');
  assert.deepEqual(withoutUser(data(after), user), withoutUser(data(before.toString('utf8')), user), 'nothing but the user changed');
  assert.equal(data(after).users.find((entry) => entry.name === user)?.user['token'], token.accessToken);
  return 'written';
}

test('an anchor inside the target user that another user aliases: refused, naming the anchor, every byte kept', async (t) => {
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'users:',
    '- name: a',
    '  user:',
    '    exec:',
    '      apiVersion: client.authentication.k8s.io/v1beta1',
    `      args: &kl [get-token, --server-id, ${SERVER_ID}]`,
    '      command: kubelogin',
    '- name: b',
    '  user:',
    '    exec:',
    '      apiVersion: client.authentication.k8s.io/v1beta1',
    '      args: *kl',
    '      command: kubelogin',
    '',
  ].join('\n');
  const file = fileWith(t, text);
  const outcome = await writeOrRefuse(file, 'a');
  assert.ok(outcome instanceof KubeconfigError, 'the token form cannot remove an anchor another entry uses');
  assert.equal(outcome.kind, 'unverifiable');
  assert.match(outcome.message, /anchor \(&kl\)/);
  assert.match(outcome.message, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
});

test('an anchor inside the target user that nothing else uses is written and restored', async (t) => {
  const text = ['apiVersion: v1', 'users:', '- name: a', '  user:', kubelogin('    ', `&kl [get-token, --server-id, ${SERVER_ID}]`), '- name: b', '  user:', '    token: other', ''].join('\n');
  const file = fileWith(t, text);
  assert.equal(await writeOrRefuse(file, 'a'), 'written');
  await clearCredentials(file, 'a');
  assert.equal(readFileSync(file, 'utf8'), text);
});

test('an anchor and its alias both inside what the write replaces go together, and sign-out restores them', async (t) => {
  const text = [
    'apiVersion: v1',
    'users:',
    '- name: a',
    '  user:',
    '    exec:',
    '      apiVersion: &v client.authentication.k8s.io/v1beta1',
    `      args: [get-token, --server-id, ${SERVER_ID}]`,
    '      command: kubelogin',
    '      x-copy: *v',
    '',
  ].join('\n');
  const file = fileWith(t, text);
  assert.equal(await writeOrRefuse(file, 'a'), 'written');
  await clearCredentials(file, 'a');
  assert.equal(readFileSync(file, 'utf8'), text);
});

for (const [what, keyLines] of [
  ['a key with # inside (a#b)', ['    a#b: 1']],
  ['a numeric key (1: x)', ['    1: x']],
  ['an explicit complex key (? x)', ['    ? x', '    : y']],
  ['a quoted key with a colon', ['    "odd: key": z']],
] as const) {
  test(`a target user with ${what} is patched line by line, not spliced over the next entry`, async (t) => {
    const text = ['apiVersion: v1', 'kind: Config', 'users:', '- name: a', '  user:', ...keyLines, kubelogin('    '), '- name: b', '  user:', '    token: other', ''].join('\n');
    const file = fileWith(t, text);
    assert.equal(await writeOrRefuse(file, 'a'), 'written');
    const user = data(readFileSync(file, 'utf8')).users[0]!.user;
    assert.equal(user['exec'], undefined);
    await clearCredentials(file, 'a');
    assert.equal(readFileSync(file, 'utf8'), text, 'sign-out restores the original bytes');
  });
}

test('current-context: a comment after the value stays', async (t) => {
  const file = fileWith(t, 'apiVersion: v1\ncurrent-context: prod # the one we use\nkind: Config\n');
  await setCurrentContext(file, 'staging');
  assert.equal(readFileSync(file, 'utf8'), 'apiVersion: v1\ncurrent-context: staging # the one we use\nkind: Config\n');
});

test('current-context: a plain value continued on the next line is replaced whole', async (t) => {
  const file = fileWith(t, 'apiVersion: v1\ncurrent-context: my\n  old context\nkind: Config\n');
  await setCurrentContext(file, 'staging');
  const text = readFileSync(file, 'utf8');
  assert.deepEqual(data(text), { apiVersion: 'v1', 'current-context': 'staging', kind: 'Config' });
  assert.equal(text, 'apiVersion: v1\ncurrent-context: staging\nkind: Config\n');
});

test('current-context: added inside the document, not after its "..." end marker', async (t) => {
  const file = fileWith(t, 'apiVersion: v1\nkind: Config\nusers: []\n...\n# notes after the document\n');
  await setCurrentContext(file, 'staging');
  const text = readFileSync(file, 'utf8');
  assert.equal(data(text)['current-context'], 'staging');
  assert.match(text, /\n\.\.\.\n# notes after the document\n$/);
});

test('current-context: an anchored value that is aliased elsewhere is not left dangling', async (t) => {
  const text = 'apiVersion: v1\ncurrent-context: &cc prod\nkind: Config\npreferences:\n  extensions:\n  - name: last-used\n    extension: {context: *cc}\n';
  const file = fileWith(t, text);
  await assert.rejects(setCurrentContext(file, 'staging'), (error: unknown) => {
    assert.ok(error instanceof KubeconfigError && error.kind === 'unverifiable', String(error));
    assert.match(error.message, /anchor \(&cc\)/);
    return true;
  });
  assert.equal(readFileSync(file, 'utf8'), text);
  // Unused anchors are kept as they are.
  const unused = fileWith(t, 'apiVersion: v1\ncurrent-context: &cc prod\nkind: Config\n');
  await setCurrentContext(unused, 'staging');
  assert.equal(readFileSync(unused, 'utf8'), 'apiVersion: v1\ncurrent-context: &cc staging\nkind: Config\n');
});

test('bytes that are not UTF-8 are refused, never turned into U+FFFD, in writes and reads', async (t) => {
  const bytes = Buffer.concat([Buffer.from('apiVersion: v1\n# caf'), Buffer.from([0xe9]), Buffer.from(`\nusers:\n- name: a\n  user:\n${kubelogin('    ')}\n`)]);
  const file = fileWith(t, bytes);
  await assert.rejects(writeCredentials(file, 'a', token), (error: unknown) => {
    assert.ok(error instanceof KubeconfigError && error.kind === 'malformed', String(error));
    assert.match(error.message, /not UTF-8 on line 2/);
    return true;
  });
  assert.ok(readFileSync(file).equals(bytes));
  await assert.rejects(setCurrentContext(file, 'x'), KubeconfigError);
  await assert.rejects(readKubeconfig([file]), /not UTF-8/);
  assert.ok(readFileSync(file).equals(bytes));
});

test('a BOM, CRLF, non-ASCII text, trailing whitespace and no final newline keep their exact bytes', async (t) => {
  const lines = ['\ufeffapiVersion: v1  ', '# café ☕ — noted \t', 'kind: Config', 'users:', '- name: b', '  user:', '    token: other   ', '- name: a', '  user:', ...kubelogin('    ').split('\n')];
  const text = lines.join('\r\n');
  const file = fileWith(t, Buffer.from(text, 'utf8'));
  const before = readFileSync(file);
  assert.equal(await writeOrRefuse(file, 'a'), 'written');
  const after = readFileSync(file);
  const prefix = Buffer.from(lines.slice(0, 9).join('\r\n') + '\r\n', 'utf8');
  assert.ok(after.subarray(0, prefix.length).equals(prefix), 'every byte before the user body is kept, BOM included');
  assert.ok(!after.toString('utf8').replace(/\r\n/g, '').includes('\n'), 'CRLF throughout');
  assert.ok(!after.toString('utf8').endsWith('\n'), 'still no final newline');
  await clearCredentials(file, 'a');
  assert.ok(readFileSync(file).equals(before), 'sign-out restores every byte');
});

test('an entry with LF lines in a CRLF file keeps its own line endings, and sign-out restores them', async (t) => {
  const text = ['apiVersion: v1', 'users:', '- name: a', '  user:\n' + kubelogin('    '), ''].join('\r\n');
  const file = fileWith(t, text);
  assert.equal(await writeOrRefuse(file, 'a'), 'written');
  assert.match(readFileSync(file, 'utf8'), /\n    token: "[^"]+"\n    extensions:\n/);
  await clearCredentials(file, 'a');
  assert.equal(readFileSync(file, 'utf8'), text);
});

test('a group- or world-readable file that will hold a token becomes 0600', async (t) => {
  const file = fileWith(t, `apiVersion: v1\nusers:\n- name: a\n  user:\n${kubelogin('    ')}\n`, 0o644);
  await writeCredentials(file, 'a', token);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('the owner and group of the file are kept when the process may keep them', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('only root can give a file to another owner to test this');
  const file = fileWith(t, `apiVersion: v1\nusers:\n- name: a\n  user:\n${kubelogin('    ')}\n`);
  chownSync(file, 65534, 65534);
  await writeCredentials(file, 'a', token);
  const after = statSync(file);
  assert.deepEqual([after.uid, after.gid], [65534, 65534]);
  assert.equal(parse(readFileSync(file, 'utf8')).users[0].user.token, token.accessToken);
});
