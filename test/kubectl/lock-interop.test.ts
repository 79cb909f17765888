// Our lock and kubectl's are one protocol: client-go only creates `<file>.lock` exclusively and never
// reads it, so the pid we write into ours is harmless to kubectl, and kubectl's (empty) lock is waited
// for, reported as held while kubectl writes, and never removed from under it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { KubeconfigError, inspectLock, removeStaleLock, writeCredentials, type LockFacts } from '../../src/core/kubeconfig';
import { acquireLock } from '../../src/core/kubeconfig/lock';
import { azNames, azSkeleton } from '../support/kubeconfig-fixtures';
import { kubectlOrSkip, runKubectl } from '../support/kubectl';

const token = (n: number) => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ n })).toString('base64url')}.c2ln`;

function folder(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'aks-signin-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

for (const version of ['1.20', '1.33'] as const) {
  test(`kubectl ${version} meets our lock (with our pid in it) as any lock, and goes on once we release it`, async (t) => {
    const kubectl = kubectlOrSkip(t, version);
    if (kubectl === undefined) return;
    const file = join(folder(t), 'config');
    writeFileSync(file, azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin', contexts: 2 }), { mode: 0o600 });
    const release = await acquireLock(file, { lockTimeoutMs: 100 });
    const blocked = await runKubectl(kubectl, ['config', 'set-context', 'extra', '--cluster=aks-test'], { kubeconfig: file });
    assert.notEqual(blocked.code, 0);
    assert.match(blocked.stderr, /config\.lock: file exists/);
    assert.ok(readFileSync(`${file}.lock`, 'utf8').includes(`"pid":${process.pid}`), 'kubectl left our lock as it was');
    await release();
    const after = await runKubectl(kubectl, ['config', 'set-context', 'extra', '--cluster=aks-test'], { kubeconfig: file });
    assert.equal(after.code, 0, after.stderr);
  });
}

test('while kubectl holds its lock we report it held, do not remove it, wait, and then write over kubectl’s change', async (t) => {
  const kubectl = kubectlOrSkip(t, '1.33');
  if (kubectl === undefined) return;
  const dir = folder(t);
  const file = join(dir, 'config');
  // Big enough that kubectl holds the lock for a while as it writes the file back.
  writeFileSync(file, azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin', contexts: 2000 }), { mode: 0o600 });
  const home = join(dir, 'home');
  const child = spawn(kubectl, ['config', 'set-context', 'added-by-kubectl', '--cluster=aks-test'], { env: { HOME: home, KUBECONFIG: file, PATH: '/nonexistent' }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let held: LockFacts | undefined;
  const deadline = Date.now() + 20_000;
  while (held === undefined && Date.now() < deadline && child.exitCode === null) {
    held = await inspectLock(file);
    if (held === undefined) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  if (held === undefined) return t.skip('kubectl finished before its lock could be seen (a fast machine)');
  assert.deepEqual([held.holderPid, held.holderAlive, held.stale], [undefined, undefined, false], 'kubectl’s lock is empty and young: held');
  await assert.rejects(removeStaleLock(file, held), (error: unknown) => error instanceof KubeconfigError && error.kind === 'locked');
  const write = writeCredentials(file, azNames(1).user, { format: 'token', accessToken: token(1), expiresOn: new Date(1_900_000_000_000), expiresInSeconds: 3599 }, { lockTimeoutMs: 30_000 });
  assert.equal(await exited, 0, 'kubectl finished its write');
  await write;
  assert.ok(!existsSync(`${file}.lock`));
  const config = parse(readFileSync(file, 'utf8')) as { contexts: Array<{ name: string }>; users: Array<{ name: string; user: { token?: string } }> };
  assert.ok(config.contexts.some((context) => context.name === 'added-by-kubectl'), 'kubectl’s change is kept');
  assert.equal(config.users.find((user) => user.name === azNames(1).user)?.user.token, token(1), 'and ours is in');
});
