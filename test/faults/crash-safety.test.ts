// A writer killed with SIGKILL at random points, again and again: the kubeconfig must always be a whole
// file, either the one before the write or the one after, never a truncated or mixed one; the lock it
// leaves names it, so it is known stale at once; its temporary files go with the next write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { KubeconfigError, clearCredentials, removeStaleLock, setCurrentContext, writeCredentials, type LockFacts } from '../../src/core/kubeconfig';
import { azNames, azSkeleton } from '../support/kubeconfig-fixtures';
import { numberedToken, readWhole, scratchFolder, tokenIndex } from './support';

const KILLS = 50;
const CONTEXTS = 200;

/** A small deterministic generator, so a failing kill schedule can be replayed from the logged seed. */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Run {
  pid?: number;
  started: number[];
  done: number[];
  exitSignal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts the writer, kills it `killAfterMs` after it is ready, and reports which writes it began and ended. */
function runAndKill(file: string, user: string, first: number, killAfterMs: number): Promise<Run> {
  const child = spawn(process.execPath, [join(__dirname, 'crash-writer.js'), file, user, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = { pid: child.pid, started: [], done: [], exitSignal: null, stderr: '' };
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      const [what, index] = line.split(' ');
      if (what === 'start') run.started.push(Number(index));
      if (what === 'done') run.done.push(Number(index));
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (run.stderr += chunk));
  // A writer that never becomes ready would hang the test; no run needs anywhere near this long.
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => {
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      run.exitSignal = signal;
      resolve(run);
    });
  });
}

function tokenOf(body: Record<string, unknown> | undefined): unknown {
  if (body === undefined) return undefined;
  if (body['token'] !== undefined) return body['token'];
  const provider = body['auth-provider'] as { config?: Record<string, unknown> } | undefined;
  return provider?.config?.['access-token'];
}

const TEMPORARY = /^\.config\.\d+\.[0-9a-f]{8}\.tmp$/;

test(`a writer killed with SIGKILL ${KILLS} times leaves the old or the new file, whole`, async (t) => {
  const dir = scratchFolder(t);
  const file = join(dir, 'config');
  const original = azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin', contexts: CONTEXTS });
  writeFileSync(file, original, { mode: 0o600 });
  const { user } = azNames(0);
  const before = await readWhole(file);
  const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
  const random = randomFrom(seed);
  t.diagnostic(`kill schedule seed ${seed} (FAULT_SEED replays it)`);

  let previous: number | undefined;
  let killedMidWrite = 0;
  let staleLocks = 0;
  let emptyLocks = 0;
  let leftoverTemporaries = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    const first = kill * 1000;
    const run = await runAndKill(file, user, first, Math.floor(random() * 150));
    assert.equal(run.exitSignal, 'SIGKILL', `kill ${kill}: the writer died by our signal, not by its own error: ${run.stderr}`);
    const lastStarted = run.started[run.started.length - 1];
    const lastDone = run.done[run.done.length - 1];
    if (lastStarted !== undefined && lastStarted !== lastDone) killedMidWrite++;

    const seen = await readWhole(file);
    assert.deepEqual(seen.contexts, before.contexts, `kill ${kill}: every context is there`);
    assert.deepEqual([...seen.users.keys()], [...before.users.keys()], `kill ${kill}: every user is there`);
    for (const [name, body] of before.users) if (name !== user) assert.deepEqual(seen.users.get(name), body, `kill ${kill}: ${name} is untouched`);
    const body = seen.users.get(user);
    const index = tokenIndex(tokenOf(body));
    if (index === undefined) {
      assert.equal(previous, undefined, `kill ${kill}: once written, the token never disappears or breaks`);
      assert.deepEqual(body, before.users.get(user), `kill ${kill}: before any write the entry is the skeleton`);
    } else {
      const fromThisRun = lastStarted !== undefined && index >= first && index <= lastStarted;
      assert.ok(fromThisRun || index === previous, `kill ${kill}: token ${index} is the previous one (${previous}) or one this run started`);
      if (lastDone !== undefined) assert.ok(index >= lastDone, `kill ${kill}: a finished write (${lastDone}) is never undone`);
      previous = index;
    }

    // Temporary files are named for their writer's pid and never mistaken for the kubeconfig; the next
    // write of ours removes them, under the lock, where no writer that follows the protocol is half way.
    const leftovers = readdirSync(dir).filter((name) => name !== 'config' && name !== 'config.lock');
    for (const name of leftovers) assert.match(name, TEMPORARY, `kill ${kill}: only our temporary files are left beside the kubeconfig`);
    if (existsSync(`${file}.lock`)) {
      staleLocks++;
      const unchanged = readFileSync(file);
      let reported: LockFacts | undefined;
      await assert.rejects(writeCredentials(file, user, { format: 'token', accessToken: numberedToken(-1), expiresOn: new Date(), expiresInSeconds: 1 }, { lockTimeoutMs: 300 }), (error: unknown) => {
        assert.ok(error instanceof KubeconfigError, String(error));
        assert.equal(error.kind, 'locked');
        assert.ok(error.message.includes(`${file}.lock`) && /stale: delete/.test(error.message), error.message);
        reported = error.lock;
        return true;
      });
      assert.deepEqual(readFileSync(file), unchanged, `kill ${kill}: a refused write leaves the file as it was`);
      if (reported?.holderPid !== undefined) {
        // The killed writer named itself in the lock: stale at once, and removed when the person agrees.
        assert.deepEqual([reported.holderPid, reported.holderAlive, reported.stale], [run.pid, false, true], `kill ${kill}: the lock names the dead writer`);
        assert.equal(await removeStaleLock(file, reported), true);
      } else {
        // Killed between creating the lock and writing its pid into it: an empty lock, like kubectl's.
        emptyLocks++;
        rmSync(`${file}.lock`);
      }
    }
    if (leftovers.length > 0) {
      const report = await setCurrentContext(file, azNames(0).context);
      assert.equal(report.changed, false);
      assert.deepEqual((report.removedLeftovers ?? []).map((path) => basename(path)).sort(), [...leftovers].sort(), `kill ${kill}: the next write removed the leftovers`);
      leftoverTemporaries += leftovers.length;
    }
    assert.deepEqual(readdirSync(dir), ['config'], `kill ${kill}: nothing of ours is left beside the kubeconfig`);
  }

  assert.ok(killedMidWrite > 0, 'at least some kills landed while a write was under way');
  await clearCredentials(file, user);
  assert.equal(readFileSync(file, 'utf8'), original, 'after all that, sign-out restores the original bytes');
  t.diagnostic(`${KILLS} kills, ${killedMidWrite} during a write, ${staleLocks} stale locks (${emptyLocks} still empty), ${leftoverTemporaries} leftover temporary files removed by the next write`);
});
