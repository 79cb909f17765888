// Refuse before the prompt: checkCredentialWrite says what would block the write before a sign-in shows
// a code, with the same error the write would throw, and writes nothing. And the lock: what we write
// into it, how a stale one is told from a held one, and that only the very lock reported is removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { KubeconfigError, checkCredentialWrite, inspectLock, removeStaleLock, writeCredentials, type Credentials, type KubeconfigErrorKind } from '../../../src/core/kubeconfig';
import { acquireLock } from '../../../src/core/kubeconfig/lock';
import { azNames, azSkeleton } from '../../support/kubeconfig-fixtures';
import { repoRoot } from '../../support/repo-root';
import { fakeJwt, fixture, scratchFolder } from './support';

const USER = azNames(0).user;
const token: Credentials = { format: 'token', accessToken: fakeJwt({ exp: 1_900_000_000 }), expiresOn: new Date(1_900_000_000_000), expiresInSeconds: 3599 };

function skeletonFile(t: { after(fn: () => void): void }, text = azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin', contexts: 2 })): string {
  const file = join(scratchFolder(t), 'config');
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

function refusedWith(kind: KubeconfigErrorKind, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof KubeconfigError, String(error));
    assert.equal(error.kind, kind, error.message);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  };
}

/** Both the pre-flight and the write refuse the same way, and neither writes a byte. */
async function sameRefusal(file: string, user: string, kind: KubeconfigErrorKind, pattern?: RegExp): Promise<void> {
  const before = existsSync(file) ? readFileSync(file) : undefined;
  await assert.rejects(checkCredentialWrite(file, user, 'token', { lockTimeoutMs: 100 }), refusedWith(kind, pattern));
  await assert.rejects(writeCredentials(file, user, token, { lockTimeoutMs: 100 }), refusedWith(kind, pattern));
  if (before !== undefined) assert.ok(readFileSync(file).equals(before), 'nothing was written');
}

test('the pre-flight passes for a file the write will take, and writes nothing', async (t) => {
  const file = skeletonFile(t);
  const before = readFileSync(file);
  const mtime = statSync(file).mtimeMs;
  await checkCredentialWrite(file, USER, 'token');
  await checkCredentialWrite(file, USER, 'legacy');
  assert.ok(readFileSync(file).equals(before));
  assert.equal(statSync(file).mtimeMs, mtime);
  assert.deepEqual(readdirSync(join(file, '..')), ['config'], 'no lock or temporary file left');
  await writeCredentials(file, USER, token);
});

test('the pre-flight refuses what the write would refuse, with the same error', async (t) => {
  await sameRefusal(join(scratchFolder(t), 'absent'), USER, 'notFound');
  await sameRefusal(skeletonFile(t, readFileSync(fixture('malformed.yaml'), 'utf8')), 'clusterUser_rg-prod_prod', 'malformed');
  await sameRefusal(skeletonFile(t, readFileSync(fixture('duplicate-user.yaml'), 'utf8')), 'twice', 'duplicateName', /kubectl refuses/);
  const skeleton = azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin', contexts: 2 });
  // client-go refuses a duplicate context as much as a duplicate user: the whole file stops loading.
  const twoContexts = skeleton.replace('contexts:\n', `contexts:\n- context:\n    cluster: aks-test\n    user: ${USER}\n  name: aks-test-1\n`);
  await sameRefusal(skeletonFile(t, twoContexts), USER, 'duplicateName', /context "aks-test-1"/);
  await sameRefusal(skeletonFile(t), 'nobody', 'notFound');
  await sameRefusal(skeletonFile(t, skeleton.replace('users:\n', 'users:\n- name: plain\n  user:\n    token: abc\n')), 'plain', 'notAks');
  const anchored = skeleton.replace('      - get-token', '      - &first get-token').replace(/(- name: clusterUser_rg-test_aks-test-1\n  user:\n    exec:\n      apiVersion: \S+\n      args:\n      )- get-token/, '$1- *first');
  assert.notEqual(anchored, skeleton);
  await sameRefusal(skeletonFile(t, anchored), USER, 'unverifiable', /anchor \(&first\)/);
});

test('the pre-flight refuses a file or folder the process cannot write (checked as an unprivileged user)', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to run the check as another user');
  const dir = scratchFolder(t);
  chmodSync(dir, 0o755);
  const file = join(dir, 'config');
  writeFileSync(file, azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin' }), { mode: 0o644 });
  const engine = join(repoRoot(), 'out', 'src', 'core', 'kubeconfig');
  const script = `require(${JSON.stringify(engine)}).checkCredentialWrite(${JSON.stringify(file)}, ${JSON.stringify(USER)}, 'token').then(() => console.log('ok'), (e) => console.log(e.kind))`;
  const asNobody = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
  assert.equal(asNobody.stdout.trim(), 'readOnly', asNobody.stderr);
  chmodSync(file, 0o666);
  const folderOnly = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
  assert.equal(folderOnly.stdout.trim(), 'readOnly', 'the temporary file and the lock need the folder');
});

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

test('a lock left by a writer of ours that died is reported stale at once, with its pid, and removed when asked', async (t) => {
  const file = skeletonFile(t);
  const pid = deadPid();
  writeFileSync(`${file}.lock`, JSON.stringify({ pid, host: hostname(), tool: 'aks-signin' }));
  const started = Date.now();
  let reported: KubeconfigError | undefined;
  await assert.rejects(writeCredentials(file, USER, token, { lockTimeoutMs: 5000 }), (error: unknown) => {
    assert.ok(error instanceof KubeconfigError && error.kind === 'locked', String(error));
    assert.equal(error.lock?.holderPid, pid);
    assert.equal(error.lock?.holderAlive, false);
    assert.equal(error.lock?.stale, true);
    assert.match(error.message, /no longer running/);
    reported = error;
    return true;
  });
  assert.ok(Date.now() - started < 2000, 'no point waiting for a writer that is gone');
  await assert.rejects(checkCredentialWrite(file, USER, 'token'), refusedWith('locked'));
  assert.equal(await removeStaleLock(file, reported!.lock!), true);
  assert.ok(!existsSync(`${file}.lock`));
  await writeCredentials(file, USER, token);
});

test('an empty lock (what kubectl leaves) is held until it is older than any write, then stale', async (t) => {
  const file = skeletonFile(t);
  writeFileSync(`${file}.lock`, '', { mode: 0 });
  const fresh = await inspectLock(file);
  assert.deepEqual([fresh?.holderPid, fresh?.holderAlive, fresh?.stale], [undefined, undefined, false]);
  await assert.rejects(writeCredentials(file, USER, token, { lockTimeoutMs: 100 }), (error: unknown) => {
    assert.ok(error instanceof KubeconfigError && error.kind === 'locked' && error.lock?.stale === false, String(error));
    assert.match(error.message, /Wait for kubectl/);
    return true;
  });
  await assert.rejects(removeStaleLock(file, fresh!), refusedWith('locked'), 'a lock that may be held is not removed');
  assert.ok(existsSync(`${file}.lock`));

  const anHourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(`${file}.lock`, anHourAgo, anHourAgo);
  const old = await inspectLock(file);
  assert.equal(old?.stale, true);
  assert.ok((old?.ageMs ?? 0) >= 3_599_000);
  await assert.rejects(removeStaleLock(file, fresh!), refusedWith('locked'), 'not the lock that was reported');
  assert.equal(await removeStaleLock(file, old!), true);
  assert.equal(await removeStaleLock(file, old!), false, 'already gone');
});

test('a lock replaced since it was reported is not removed', async (t) => {
  const file = skeletonFile(t);
  writeFileSync(`${file}.lock`, '');
  const anHourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(`${file}.lock`, anHourAgo, anHourAgo);
  const seen = await inspectLock(file);
  rmSync(`${file}.lock`);
  writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, host: hostname() }));
  await assert.rejects(removeStaleLock(file, seen!), refusedWith('locked'));
  assert.ok(existsSync(`${file}.lock`), 'the new lock stays');
});

test('a lock naming a live process is held, however old; one naming a pid that started after it is not', async (t) => {
  const file = skeletonFile(t);
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
  t.after(() => sleeper.kill('SIGKILL'));
  writeFileSync(`${file}.lock`, JSON.stringify({ pid: sleeper.pid, host: hostname() }));
  const held = await inspectLock(file, 10);
  assert.deepEqual([held?.holderAlive, held?.stale], [true, false]);
  if (process.platform === 'linux') {
    // A day-old lock naming a pid that now belongs to a process started a moment ago: pid reuse.
    const aDayAgo = new Date(Date.now() - 86_400_000);
    utimesSync(`${file}.lock`, aDayAgo, aDayAgo);
    const reused = await inspectLock(file);
    assert.deepEqual([reused?.holderAlive, reused?.stale], [false, true]);
  }
});

test('a lock we take names our process and host, and is gone after the write', async (t) => {
  const file = skeletonFile(t);
  const release = await acquireLock(file, { lockTimeoutMs: 100 });
  assert.deepEqual(JSON.parse(readFileSync(`${file}.lock`, 'utf8')), { pid: process.pid, host: hostname(), tool: 'aks-signin' });
  assert.equal(statSync(`${file}.lock`).mode & 0o777, 0o600);
  const facts = await inspectLock(file);
  assert.deepEqual([facts?.holderPid, facts?.holderAlive, facts?.stale], [process.pid, true, false]);
  await release();
  assert.ok(!existsSync(`${file}.lock`));
  await writeCredentials(file, USER, token);
  assert.ok(!existsSync(`${file}.lock`));
});

test('temporary files a dead writer of ours left are removed by the next write; nobody else’s are touched', async (t) => {
  const file = skeletonFile(t);
  const dir = join(file, '..');
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
  t.after(() => sleeper.kill('SIGKILL'));
  const dead = `.config.${deadPid()}.0123abcd.tmp`;
  const live = `.config.${sleeper.pid}.89abcdef.tmp`;
  const others = ['.config.swp', '.config.1.tmp', `.other.${deadPid()}.0123abcd.tmp`, 'config.bak', `.config.${deadPid()}.0123abcd.tmp.keep`];
  for (const name of [dead, live, ...others]) writeFileSync(join(dir, name), 'partial');
  const report = await writeCredentials(file, USER, token);
  assert.deepEqual(report.removedLeftovers, [join(dir, dead)]);
  assert.deepEqual(readdirSync(dir).sort(), ['config', live, ...others].sort());
  const again = await writeCredentials(file, USER, token);
  assert.equal(again.removedLeftovers, undefined);
});
