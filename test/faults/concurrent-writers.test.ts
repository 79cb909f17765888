// The session service and real kubectl rewriting one kubeconfig at the same time. Both take client-go's
// `<file>.lock`; kubectl gives up at once when it finds the lock taken ("open <file>.lock: file exists"),
// so its loop retries that round the way a person would run the command again.
//
// kubectl plans its rewrite from a read it makes before taking the lock, so a token we wrote in that gap
// comes back one write older (client-go's protocol, not ours). What the person needs is that the file
// holds our newest token after every round: the service notices the older token on the file watcher's
// reload (called here after each round, as VS Code's watcher would) and writes the current one back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKubeconfig, tokenFingerprint } from '../../src/core/kubeconfig';
import { identityKey } from '../../src/core/session/records';
import { demo, startIdentityPlatform, type IdentityPlatform } from '../support/identity-platform';
import { azNames, azSkeleton } from '../support/kubeconfig-fixtures';
import { kubectlOrSkip, runKubectl } from '../support/kubectl';
import { createTestCa } from '../support/tls';
import { approvingPrompt, assertGenuine, recordingLogger, sessionHarness, waitFor } from './session-harness';
import { readWhole, underLock } from './support';

// 1,000 rounds take several minutes on two cores (kubectl ~0.2 s a run plus lock retries), more than this
// suite's share of CI; FAULT_KUBECTL_ROUNDS raises it for a soak run.
const ROUNDS = Number(process.env.FAULT_KUBECTL_ROUNDS ?? 160);
const MAX_LOCK_RETRIES_PER_ROUND = 400;
const REPAIR_WAIT_MS = 10_000;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let dir: string;
let platform: IdentityPlatform;
let caPem: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aks-signin-concurrent-'));
  const ca = createTestCa(join(dir, 'ca'));
  caPem = ca.caPem;
  platform = await startIdentityPlatform({ tls: { ...ca.serverCertificate, ca: ca.caPem } });
  platform.controls.pollIntervalSeconds = 1;
});

after(async () => {
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
});

test(`kubectl set-context/use-context (${ROUNDS} rounds) and our refreshes share one file: after every round it holds our newest token`, async (t) => {
  const kubectl = kubectlOrSkip(t, '1.33');
  if (kubectl === undefined) return;
  const file = join(dir, 'config');
  const logged: string[] = [];
  const h = sessionHarness({
    platform,
    ca: [caPem],
    logger: recordingLogger(logged),
    kubeconfig: file,
    text: azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin', contexts: 3, tenantId: demo.CONTOSO_TENANT }),
  });
  t.after(() => h.dispose());
  const { user, cluster, context } = azNames(0);
  const otherUsers = [azNames(1).user, azNames(2).user];
  await h.service.reload();
  await h.service.signIn(context, approvingPrompt(platform, 'alice@contoso.onmicrosoft.com'));
  const key = identityKey(file, user);

  let refreshes = 0;
  let stop = false;
  const writer = (async () => {
    while (!stop) {
      await h.service.refresh(context);
      refreshes++;
      // A pause leaves kubectl a chance at the lock; without it our loop would hold the lock nearly all
      // the time and the test would measure starvation rather than interleaving.
      await delay(15);
    }
  })();

  const contextsSet: string[] = [];
  let currentContext = context;
  let lockRetries = 0;
  let olderTokenRounds = 0;
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

      // What VS Code's file watcher does after kubectl's rename.
      await h.service.reload();
      let sawOlder = false;
      await waitFor(
        async () => {
          const newest = (await h.records.get(key))?.tokenFingerprint;
          const seen = await underLock(file, () => readWhole(file));
          const token = seen.users.get(user)?.['token'];
          const holdsNewest = typeof token === 'string' && tokenFingerprint(token) === newest;
          if (!holdsNewest) sawOlder = true;
          return holdsNewest;
        },
        REPAIR_WAIT_MS,
        `round ${round}: the file holding our newest token`,
        20,
      );
      if (sawOlder) olderTokenRounds++;
      const seen = await underLock(file, () => readWhole(file));
      for (const name of [...contextsSet, azNames(0).context, azNames(1).context, azNames(2).context]) {
        assert.ok(seen.contexts.includes(name), `round ${round}: context ${name} is still there`);
      }
      assert.equal(seen.currentContext, currentContext, `round ${round}: kubectl's current-context stands`);
      for (const other of otherUsers) assert.ok(seen.users.has(other), `round ${round}: user ${other} is still there`);
    }
  } finally {
    stop = true;
    await writer;
  }
  const elapsedMs = Date.now() - started;

  await h.service.reload();
  const final = await readWhole(file);
  const token = final.users.get(user)?.['token'];
  assertGenuine(platform, typeof token === 'string' ? token : undefined);
  assert.equal(tokenFingerprint(String(token)), (await h.records.get(key))?.tokenFingerprint, 'the last token we wrote is in the file');
  for (const name of contextsSet) assert.ok(final.contexts.includes(name), `context ${name} survived`);
  assert.equal(final.currentContext, currentContext);
  const credential = (await readKubeconfig([file])).users.get(user)?.credential;
  assert.ok(credential?.kind === 'aks' && credential.format === 'token', 'kubectl carried our kept skeleton through its rewrites');
  await h.service.signOut(context);
  const cleared = (await readKubeconfig([file])).users.get(user)?.credential;
  assert.ok(cleared?.kind === 'aks' && cleared.format === 'none' && cleared.identity.origin === 'exec-kubelogin', 'sign-out still restores the kubelogin skeleton');

  t.diagnostic(
    `${ROUNDS} kubectl rounds in ${(elapsedMs / 1000).toFixed(1)} s, ${refreshes} refreshes, ${lockRetries} kubectl lock retries, ` +
      `${olderTokenRounds} rounds where kubectl had put an older token of ours back (each written back before the round ended)`,
  );
});
