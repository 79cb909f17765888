// File systems that refuse for a moment, or refuse the rename for good: a kubeconfig bind-mounted into a
// dev container as a single file cannot be renamed over (EBUSY), so it is written in place under the
// lock, as kubectl does; refusals that pass by themselves come back as `busy`, for the caller to retry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { KubeconfigError, writeCredentials, type Credentials } from '../../../src/core/kubeconfig';
import { fileSystem } from '../../../src/core/kubeconfig/write';
import { azNames, azSkeleton } from '../../support/kubeconfig-fixtures';
import { fakeJwt, scratchFolder } from './support';

const USER = azNames(0).user;
const token: Credentials = { format: 'token', accessToken: fakeJwt({ exp: 1_900_000_000 }), expiresOn: new Date(1_900_000_000_000), expiresInSeconds: 3599 };

function failing(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

test('a rename refused with EBUSY (a bind-mounted file) is written in place, verified, mode narrowed, nothing left over', async (t) => {
  const file = join(scratchFolder(t), 'config');
  writeFileSync(file, azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin', contexts: 2 }), { mode: 0o644 });
  chmodSync(file, 0o644);
  const inode = statSync(file).ino;
  const original = fileSystem.rename;
  fileSystem.rename = async () => {
    throw failing('EBUSY');
  };
  t.after(() => (fileSystem.rename = original));
  const report = await writeCredentials(file, USER, token);
  assert.equal(report.tightenedModeFrom, 0o644);
  assert.equal(statSync(file).ino, inode, 'the same file, written in place');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const config = parse(readFileSync(file, 'utf8')) as { users: Array<{ name: string; user: { token?: string } }> };
  assert.equal(config.users.find((user) => user.name === USER)?.user.token, token.accessToken);
  assert.deepEqual(readdirSync(join(file, '..')), ['config']);
});

test('a file system that says EAGAIN, or a rename blocked on Windows, is a "busy" refusal with the file untouched', async (t) => {
  const file = join(scratchFolder(t), 'config');
  writeFileSync(file, azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin' }), { mode: 0o600 });
  const before = readFileSync(file);
  const original = fileSystem.open;
  fileSystem.open = (async (path: string, ...rest: unknown[]) => {
    if (path.endsWith('.tmp')) throw failing('EAGAIN');
    return (original as (...args: unknown[]) => unknown)(path, ...rest);
  }) as typeof fileSystem.open;
  t.after(() => (fileSystem.open = original));
  await assert.rejects(writeCredentials(file, USER, token), (error: unknown) => {
    assert.ok(error instanceof KubeconfigError && error.kind === 'busy', String(error));
    assert.match(error.message, /busy \(EAGAIN\).*try again/);
    return true;
  });
  assert.ok(readFileSync(file).equals(before));
  fileSystem.open = original;

  if (process.platform !== 'win32') return;
  const rename = fileSystem.rename;
  fileSystem.rename = async () => {
    throw failing('EPERM');
  };
  t.after(() => (fileSystem.rename = rename));
  await assert.rejects(writeCredentials(file, USER, token), (error: unknown) => error instanceof KubeconfigError && error.kind === 'busy');
});
