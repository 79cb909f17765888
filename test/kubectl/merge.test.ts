// Merging what Azure's listClusterUserCredential returns into a kubeconfig, the way az aks get-credentials
// does, through the verified writer: real kubectl 1.33 must read every entry that was there and every
// merged one, and nothing else in the file may change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeconfigError, mergeKubeconfig, planKubeconfigMerge, writeCredentials } from '../../src/core/kubeconfig';
import { azSkeleton } from '../support/kubeconfig-fixtures';
import { kubectlOrSkip, runKubectl } from '../support/kubectl';
import { repoRoot } from '../support/repo-root';

type Json = Record<string, unknown>;
type View = { clusters: Json[] | null; contexts: Json[] | null; users: Json[] | null; 'current-context': string };

function folder(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'aks-signin-merge-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const fromAzure = (clusterName: string, format: 'exec-kubelogin' | 'auth-provider' = 'exec-kubelogin') =>
  azSkeleton({ server: `https://${clusterName}.hcp.westeurope.azmk8s.io:443`, format, clusterName, resourceGroup: 'rg-new' });

async function view(t: Parameters<typeof kubectlOrSkip>[0], file: string): Promise<View> {
  const kubectl = kubectlOrSkip(t, '1.33')!;
  const result = await runKubectl(kubectl, ['config', 'view', '--raw', '-o', 'json'], { kubeconfig: file });
  assert.equal(result.code, 0, `kubectl reads ${file}: ${result.stderr}`);
  return JSON.parse(result.stdout) as View;
}

function byName(entries: Json[] | null): Map<string, Json> {
  return new Map((entries ?? []).map((entry) => [entry['name'] as string, entry]));
}

/** The merged file's lines hold the original's, in order, with only whole lines added or replaced. */
function keptInOrder(original: string, merged: string, replacedLines = 0): void {
  const a = original.split(/(?<=\n)/);
  const b = merged.split(/(?<=\n)/);
  let j = 0;
  let missing = 0;
  for (const line of a) {
    const found = b.indexOf(line, j);
    if (found === -1) missing++;
    else j = found + 1;
  }
  assert.ok(missing <= replacedLines, `${missing} original lines are gone (allowed ${replacedLines})`);
}

test('new clusters, contexts and users from Azure are appended in the file’s style, kubectl reads all of them, and nothing else changes', async (t) => {
  if (kubectlOrSkip(t, '1.33') === undefined) return;
  const dir = folder(t);
  const file = join(dir, 'config');
  const original = readFileSync(join(repoRoot(), 'test', 'fixtures', 'kubeconfig', 'merged.yaml'), 'utf8');
  writeFileSync(file, original, { mode: 0o600 });
  const incoming = fromAzure('new-aks');
  const incomingFile = join(dir, 'incoming');
  writeFileSync(incomingFile, incoming);
  const before = await view(t, file);

  const plan = await planKubeconfigMerge(file, incoming);
  assert.deepEqual(plan.entries.map((entry) => `${entry.kind}:${entry.name}:${entry.status}`), ['cluster:new-aks:new', 'context:new-aks:new', 'user:clusterUser_rg-new_new-aks:new']);
  assert.deepEqual(plan.conflicts, []);
  assert.equal(plan.incomingCurrentContext, 'new-aks');

  const report = await mergeKubeconfig(file, incoming);
  assert.equal(report.created, false);
  assert.deepEqual([...report.clusters, ...report.contexts, ...report.users].map((entry) => `${entry.name}:${entry.action}`), ['new-aks:added', 'new-aks:added', 'clusterUser_rg-new_new-aks:added']);
  const merged = readFileSync(file, 'utf8');
  keptInOrder(original, merged);
  assert.match(merged, /\n  name: eks\n- cluster:\n    certificate-authority-data: [^\n]+\n    server: https:\/\/new-aks[^\n]+\n  name: new-aks\ncontexts:\n/, 'appended right after the last cluster, as kubectl lays out lists');
  assert.match(merged, /\n      installHint: \|\n\n        kubelogin is not installed/, 'a multi-line installHint stays a block scalar, with no trailing spaces');
  assert.match(merged, /\n- name: clusterUser_rg-new_new-aks\n  user:\n    exec:\n/);

  const after = await view(t, file);
  const theirs = await view(t, incomingFile);
  assert.equal(after['current-context'], before['current-context'], 'current-context is never changed by a merge');
  for (const list of ['clusters', 'contexts', 'users'] as const) {
    const was = byName(before[list]);
    const now = byName(after[list]);
    for (const [name, entry] of was) assert.deepEqual(now.get(name), entry, `${list} ${name} reads as before`);
    for (const [name, entry] of byName(theirs[list])) assert.deepEqual(now.get(name), entry, `${list} ${name} reads as Azure gave it`);
    assert.equal(now.size, was.size + 1);
  }

  // Merged again: identical entries are left alone, and the file is not rewritten.
  const mtime = statSync(file).mtimeMs;
  const again = await mergeKubeconfig(file, incoming);
  assert.equal(again.changed, false);
  assert.ok([...again.clusters, ...again.contexts, ...again.users].every((entry) => entry.action === 'unchanged'));
  assert.equal(statSync(file).mtimeMs, mtime);
});

test('a conflict is refused until resolved: replace in place, or keep both under a new name with the context pointing at it', async (t) => {
  if (kubectlOrSkip(t, '1.33') === undefined) return;
  const dir = folder(t);
  const file = join(dir, 'config');
  writeFileSync(file, fromAzure('aks'), { mode: 0o600 });
  const original = readFileSync(file, 'utf8');
  // Same names, other content: the cluster moved, and the user is the historic auth-provider skeleton.
  const changed = fromAzure('aks', 'auth-provider').replace('https://aks.hcp.westeurope.azmk8s.io:443', 'https://aks-moved.hcp.westeurope.azmk8s.io:443');
  const plan = await planKubeconfigMerge(file, changed);
  assert.deepEqual(plan.conflicts, ['cluster:aks', 'user:clusterUser_rg-new_aks']);
  assert.equal(plan.entries.find((entry) => entry.kind === 'context')?.status, 'identical');

  await assert.rejects(mergeKubeconfig(file, changed), (error: unknown) => {
    assert.ok(error instanceof KubeconfigError && error.kind === 'conflict', String(error));
    assert.match(error.message, /cluster "aks", user "clusterUser_rg-new_aks"/);
    return true;
  });
  assert.equal(readFileSync(file, 'utf8'), original);

  const kept = join(dir, 'kept');
  writeFileSync(kept, original, { mode: 0o600 });
  const both = await mergeKubeconfig(kept, changed, { 'cluster:aks': 'keepBoth', 'user:clusterUser_rg-new_aks': 'keepBoth' });
  assert.deepEqual(
    [...both.clusters, ...both.contexts, ...both.users].map((entry) => `${entry.kind}:${entry.incoming}->${entry.name}:${entry.action}`),
    ['cluster:aks->aks-2:keptBoth', 'context:aks->aks-2:keptBoth', 'user:clusterUser_rg-new_aks->clusterUser_rg-new_aks-2:keptBoth'],
  );
  const keptView = await view(t, kept);
  const context = byName(keptView.contexts).get('aks-2')?.['context'] as Json;
  assert.deepEqual([context['cluster'], context['user']], ['aks-2', 'clusterUser_rg-new_aks-2'], 'the new context points at the entries kept beside the old ones');
  assert.equal((byName(keptView.clusters).get('aks')?.['cluster'] as Json)['server'], 'https://aks.hcp.westeurope.azmk8s.io:443');
  assert.equal(keptView['current-context'], 'aks');
  keptInOrder(original, readFileSync(kept, 'utf8'));

  const replaced = await mergeKubeconfig(file, changed, { 'cluster:aks': 'replace', 'user:clusterUser_rg-new_aks': 'replace' });
  assert.deepEqual([...replaced.clusters, ...replaced.users].map((entry) => entry.action), ['replaced', 'replaced']);
  const replacedView = await view(t, file);
  assert.equal((byName(replacedView.clusters).get('aks')?.['cluster'] as Json)['server'], 'https://aks-moved.hcp.westeurope.azmk8s.io:443');
  assert.ok(isAuthProvider(byName(replacedView.users).get('clusterUser_rg-new_aks')));
  assert.equal(replacedView.clusters?.length, 1);
});

function isAuthProvider(entry: Json | undefined): boolean {
  return ((entry?.['user'] as Json | undefined)?.['auth-provider'] as Json | undefined)?.['name'] === 'azure';
}

test('into a missing file: created 0600 in a new 0700 folder, which kubectl reads', async (t) => {
  if (kubectlOrSkip(t, '1.33') === undefined) return;
  const file = join(folder(t), 'new', '.kube', 'config');
  const plan = await planKubeconfigMerge(file, fromAzure('first'));
  assert.equal(plan.exists, false);
  assert.ok(plan.entries.every((entry) => entry.status === 'new'));
  const report = await mergeKubeconfig(file, fromAzure('first'));
  assert.equal(report.created, true);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(file, '..')).mode & 0o777, 0o700);
  const created = await view(t, file);
  assert.deepEqual([created.clusters?.length, created.contexts?.length, created.users?.length, created['current-context']], [1, 1, 1, '']);
});

test('CRLF, indented lists, empty and missing lists, and a JSON file all take the merged entries in their own style', async (t) => {
  if (kubectlOrSkip(t, '1.33') === undefined) return;
  const dir = folder(t);
  const cases: Array<[string, string, (merged: string) => void]> = [
    [
      'crlf-indented',
      'apiVersion: v1\r\nclusters:\r\n  - cluster:\r\n      server: https://a\r\n    name: a\r\ncontexts: []\r\nkind: Config\r\n# users are added by hand\r\nusers: null\r\n',
      (merged) => {
        assert.doesNotMatch(merged, /[^\r]\n/, 'CRLF throughout');
        assert.match(merged, /\r\n    name: a\r\n  - cluster:\r\n/, 'indented like the list it joins');
        assert.match(merged, /\r\n# users are added by hand\r\nusers:\r\n  - name: clusterUser_rg-new_x\r\n/);
      },
    ],
    ['no-lists', 'apiVersion: v1\nkind: Config\npreferences: {}\n', (merged) => assert.match(merged, /^apiVersion: v1\nclusters:\n- cluster:[\s\S]*\ncontexts:\n- context:[\s\S]*\nkind: Config\npreferences: \{\}\nusers:\n- name: /)],
    ['json', JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'a', cluster: { server: 'https://a' } }], contexts: [], users: [] }, null, 2) + '\n', (merged) => assert.doesNotThrow(() => JSON.parse(merged), 'still JSON')],
    ['empty', '', (merged) => assert.match(merged, /^apiVersion: v1\nclusters:\n/)],
  ];
  for (const [name, text, check] of cases) {
    const file = join(dir, name);
    writeFileSync(file, text, { mode: 0o644 });
    chmodSync(file, 0o644);
    const report = await mergeKubeconfig(file, fromAzure('x'));
    const merged = readFileSync(file, 'utf8');
    check(merged);
    const seen = await view(t, file);
    assert.ok(byName(seen.users).has('clusterUser_rg-new_x') && byName(seen.clusters).has('x') && byName(seen.contexts).has('x'), `${name}: kubectl reads the merged entries`);
    assert.equal(report.tightenedModeFrom, undefined, `${name}: an exec user holds no secret, so the mode stays`);
    assert.ok(existsSync(file));
  }
  // A user that carries a secret makes the file private.
  const secret = join(dir, 'secret');
  writeFileSync(secret, 'apiVersion: v1\nkind: Config\n', { mode: 0o644 });
  chmodSync(secret, 0o644);
  const withToken = 'apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: abc.def.ghi\n';
  assert.equal((await mergeKubeconfig(secret, withToken)).tightenedModeFrom, 0o644);
  assert.equal(statSync(secret).mode & 0o777, 0o600);
});

test('the same cluster fetched again after its user was signed in is the same entry, not a conflict that would cost the sign-in', async (t) => {
  if (kubectlOrSkip(t, '1.33') === undefined) return;
  const dir = folder(t);
  const file = join(dir, 'config');
  const incoming = fromAzure('again-aks');
  await mergeKubeconfig(file, incoming, {});
  const user = 'clusterUser_rg-new_again-aks';
  const payload = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
  await writeCredentials(file, user, { format: 'token', accessToken: `eyJhbGciOiJSUzI1NiJ9.${payload}.c2ln`, expiresOn: new Date(Date.now() + 3600_000), expiresInSeconds: 3600 });
  const signedIn = readFileSync(file, 'utf8');
  const plan = await planKubeconfigMerge(file, incoming);
  assert.deepEqual(
    plan.entries.map((entry) => [entry.kind, entry.status]),
    [['cluster', 'identical'], ['context', 'identical'], ['user', 'identical']],
  );
  await mergeKubeconfig(file, incoming, {});
  assert.equal(readFileSync(file, 'utf8'), signedIn, 'the signed-in entry is left as it is');
  // The cluster edited since: Keep Both adds the cluster and a context for it, and still leaves the user alone.
  writeFileSync(file, signedIn.replace('server: https://again-aks', 'server: https://stale-again-aks'));
  const keepBoth = await mergeKubeconfig(file, incoming, Object.fromEntries((await planKubeconfigMerge(file, incoming)).conflicts.map((key) => [key, 'keepBoth' as const])));
  assert.deepEqual(
    [keepBoth.clusters[0]?.name, keepBoth.contexts[0]?.name, keepBoth.users[0]?.action],
    ['again-aks-2', 'again-aks-2', 'unchanged'],
  );
  // Content that differs from what was kept is still a conflict.
  const changed = incoming.replace('--login\n      - devicecode', '--login\n      - azurecli');
  assert.ok(changed !== incoming);
  assert.ok((await planKubeconfigMerge(file, changed)).entries.some((entry) => entry.kind === 'user' && entry.status === 'conflict'));
});
