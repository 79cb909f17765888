// Our writer and real kubectl rewriting one kubeconfig at the same time. Both take client-go's
// `<file>.lock`; kubectl gives up at once when it finds the lock taken ("open <file>.lock: file exists"),
// so its loop retries that round the way a person would run the command again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearCredentials, readKubeconfig, writeCredentials } from '../../src/core/kubeconfig';
import { azNames, azSkeleton } from '../support/kubeconfig-fixtures';
import { kubectlOrSkip, runKubectl } from '../support/kubectl';
import { numberedToken, readWhole, scratchFolder, tokenIndex, underLock } from './support';

// 1,000 rounds take several minutes on two cores (kubectl ~0.2 s a run plus lock retries), more than
// this suite's share of CI; FAULT_KUBECTL_ROUNDS raises it for a soak run.
const ROUNDS = Number(process.env.FAULT_KUBECTL_ROUNDS ?? 160);
const MAX_LOCK_RETRIES_PER_ROUND = 400;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

test(`kubectl set-context/use-context (${ROUNDS} rounds) and our token writes share one file and lose nothing`, async (t) => {
  const kubectl = kubectlOrSkip(t, '1.33');
  if (kubectl === undefined) return;
  const dir = scratchFolder(t);
  const file = join(dir, 'config');
  const original = azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin', contexts: 3 });
  writeFileSync(file, original, { mode: 0o600 });
  const { user, cluster } = azNames(0);
  const otherUsers = [azNames(1).user, azNames(2).user];

  // Indices of writes that finished, and the one in flight: a check under the lock may land between a
  // finished rename and the moment our loop records it.
  let lastFinished = -1;
  let inFlight = -1;
  let writes = 0;
  let stop = false;
  const writer = (async () => {
    for (let index = 0; !stop; index++) {
      inFlight = index;
      await writeCredentials(file, user, { format: 'token', accessToken: numberedToken(index, index % 97), expiresOn: new Date(1_900_000_000_000), expiresInSeconds: 3599 }, { lockTimeoutMs: 15_000 });
      lastFinished = index;
      writes++;
      // A pause of a few milliseconds leaves kubectl a chance at the lock; without it our loop would hold
      // the lock nearly all the time and the test would measure starvation rather than interleaving.
      await delay(10 + (index % 11));
    }
  })();

  const contextsSet: string[] = [];
  let currentContext = azNames(0).context;
  let lockRetries = 0;
  let staleTokenRounds = 0;
  const started = Date.now();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const setting = round % 2 === 0;
      const name = `fault-${Math.floor(round / 2)}`;
      const args = setting ? ['config', 'set-context', name, `--cluster=${cluster}`, `--user=${user}`, `--namespace=ns-${round}`] : ['config', 'use-context', name];
      for (let attempt = 0; ; attempt++) {
        const result = await runKubectl(kubectl, args, { kubeconfig: file });
        if (result.code === 0) break;
        assert.match(result.stderr, /\.lock: file exists/, `kubectl ${args.join(' ')} failed for another reason than our lock: ${result.stderr}`);
        assert.ok(attempt < MAX_LOCK_RETRIES_PER_ROUND, `kubectl never got the lock in round ${round}`);
        lockRetries++;
      }
      if (setting) contextsSet.push(name);
      else currentContext = name;

      const seen = await underLock(file, () => readWhole(file));
      for (const context of [...contextsSet, azNames(0).context, azNames(1).context, azNames(2).context]) {
        assert.ok(seen.contexts.includes(context), `round ${round}: context ${context} is still there`);
      }
      assert.equal(seen.currentContext, currentContext, `round ${round}: kubectl's current-context stands`);
      for (const other of otherUsers) assert.ok(seen.users.has(other), `round ${round}: user ${other} is still there`);
      const token = seen.users.get(user)?.['token'];
      const index = tokenIndex(token);
      assert.notEqual(index, undefined, `round ${round}: the token is one we wrote, whole`);
      assert.ok(index! <= inFlight, `round ${round}: the token is not from the future`);
      // kubectl decides what to write from a read it makes before taking the lock, so a token we wrote in
      // that gap can come back one write older; client-go's protocol, not ours. Counted, and bounded below.
      if (index! < lastFinished) staleTokenRounds++;
    }
  } finally {
    stop = true;
    await writer;
  }
  const elapsedMs = Date.now() - started;

  const final = await readWhole(file);
  assert.equal(tokenIndex(final.users.get(user)?.['token']), lastFinished, 'the last token we wrote is in the file');
  for (const context of contextsSet) assert.ok(final.contexts.includes(context), `context ${context} survived`);
  assert.equal(final.currentContext, currentContext);
  assert.equal(contextsSet.length, Math.ceil(ROUNDS / 2));

  const view = await readKubeconfig([file]);
  const credential = view.users.get(user)?.credential;
  assert.ok(credential?.kind === 'aks' && credential.format === 'token', 'kubectl carried our kept skeleton through its rewrites');
  await clearCredentials(file, user);
  const cleared = (await readKubeconfig([file])).users.get(user)?.credential;
  assert.ok(cleared?.kind === 'aks' && cleared.format === 'none' && cleared.identity.origin === 'exec-kubelogin', 'sign-out still restores the kubelogin skeleton');
  assert.ok(staleTokenRounds < ROUNDS / 4, `kubectl put an older token back in ${staleTokenRounds} of ${ROUNDS} rounds`);

  t.diagnostic(`${ROUNDS} kubectl rounds in ${(elapsedMs / 1000).toFixed(1)} s, ${writes} token writes, ${lockRetries} kubectl lock retries, ${staleTokenRounds} rounds where kubectl wrote back an older token of ours`);
});
