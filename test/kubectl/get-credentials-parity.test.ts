// Parity with the real tool: Debian's azure-cli 2.45 runs `az aks get-credentials` against the same ARM
// double into a copy of the same kubeconfig that our ARM client and merge write into. Read back by real
// kubectl 1.33, both must hold the same clusters, contexts and users with the same values; the differences
// that exist by design are asserted one by one (az moves current-context, az moves a replaced or re-merged
// entry to the end of its list, az rewrites the whole file through PyYAML), so any other difference fails.
// Eight az runs in all (two of them register the test cloud), a few seconds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { ArmClient } from '../../src/core/arm';
import { KubeconfigError, mergeKubeconfig, planKubeconfigMerge, writeCredentials } from '../../src/core/kubeconfig';
import { silentLogger } from '../../src/core/ports';
import { sha256Hex, startApiServer, type ApiServer } from '../support/apiserver';
import { clusterResourceId, DEMO_SUBSCRIPTIONS, demoWorld, startArmServer, type ArmClusterSpec, type ArmServer } from '../support/arm';
import { signInForArm, type ArmSignIn } from '../support/arm/token-provider';
import { createAzureCli, findAz, type AzResult, type AzureCli } from '../support/azure-cli';
import { demo, startIdentityPlatform, type IdentityPlatform } from '../support/identity-platform';
import { fakeCaData } from '../support/kubeconfig-fixtures';
import { kubectlOrSkip, runKubectl } from '../support/kubectl';
import { createTestCa } from '../support/tls';

type Json = Record<string, unknown>;
type View = { clusters: Json[] | null; contexts: Json[] | null; users: Json[] | null; 'current-context': string } & Json;

const ALICE = 'alice@contoso.onmicrosoft.com';
const SUBSCRIPTION = DEMO_SUBSCRIPTIONS.CONTOSO_PROD;
const GROUP = 'rg-shop';
const CLUSTER = 'aks-shop-prod';
const USER = `clusterUser_${GROUP}_${CLUSTER}`;
/** The path both clients POST to, spelled as they spell it (AKS's own ids say `resourcegroups`). */
const CREDENTIAL_PATH = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${GROUP}/providers/Microsoft.ContainerService/managedClusters/${CLUSTER}/listClusterUserCredential`;

const missing = findAz() === undefined;
if (missing && process.env.CI) throw new Error("az is not installed; scripts/setup.sh installs Debian's azure-cli");
const skip = missing ? 'az is not installed (scripts/setup.sh installs azure-cli)' : false;

// What a person's file holds before Azure is involved: comments (whole-line and after a value), a cluster of
// their own, a context whose keys are not in sorted order, its current context, kubectl's top-level layout.
const HEADER = ['# My clusters. The on-prem one came first; AKS clusters are added with az aks get-credentials.', 'apiVersion: v1'];
const ONPREM_CLUSTER = [
  '- cluster:',
  `    certificate-authority-data: ${fakeCaData(11)}`,
  '    server: https://onprem.example.internal:6443  # reachable over the VPN only',
  '  name: onprem',
];
const ONPREM_CONTEXT = ['- name: onprem-admin', '  context:', '    user: onprem-admin', '    cluster: onprem', '    namespace: kube-system'];
const ONPREM_USER = [
  '# Client certificate from the on-prem CA, renewed every year in March.',
  '- name: onprem-admin',
  '  user:',
  '    client-certificate: /home/alice/.certs/onprem-admin.crt',
  '    client-key: /home/alice/.certs/onprem-admin.key',
];
const MIDDLE = ['current-context: onprem-admin', 'kind: Config', 'preferences: {}'];

// The same cluster fetched years ago, before Kubernetes 1.24: the server it had then and the historic
// auth-provider user. Same names as what Azure returns today, other content.
const STALE_CLUSTER = [
  '- cluster:',
  `    certificate-authority-data: ${fakeCaData(5)}`,
  '    server: https://aks-shop-p-rg-shop-8c3f1b-0a1b2c3d.hcp.westeurope.azmk8s.io:443',
  `  name: ${CLUSTER}`,
];
const STALE_CONTEXT = ['- context:', `    cluster: ${CLUSTER}`, `    user: ${USER}`, `  name: ${CLUSTER}`];
const STALE_USER = [
  `- name: ${USER}`,
  '  user:',
  '    auth-provider:',
  '      config:',
  `        apiserver-id: ${demo.AKS_SERVER_APP_ID}`,
  `        client-id: ${demo.AKS_CLIENT_APP_ID}`,
  "        config-mode: '1'",
  '        environment: AzurePublicCloud',
  `        tenant-id: ${demo.CONTOSO_TENANT}`,
  '      name: azure',
];

const text = (lines: string[]) => `${lines.join('\n')}\n`;
const PERSONAL = text([...HEADER, 'clusters:', ...ONPREM_CLUSTER, '# Contexts: one per cluster and role.', 'contexts:', ...ONPREM_CONTEXT, ...MIDDLE, 'users:', ...ONPREM_USER]);
const WITH_STALE = text([
  ...HEADER,
  'clusters:',
  ...STALE_CLUSTER,
  ...ONPREM_CLUSTER,
  '# Contexts: one per cluster and role.',
  'contexts:',
  ...STALE_CONTEXT,
  ...ONPREM_CONTEXT,
  ...MIDDLE,
  'users:',
  ...STALE_USER,
  ...ONPREM_USER,
]);

let dir: string;
let platform: IdentityPlatform;
let apiServer: ApiServer;
let arm: ArmServer;
let cli: AzureCli;
let signIn: ArmSignIn;
let client: ArmClient;
let clusterId: string;

before(async () => {
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'aks-parity-'));
  const ca = createTestCa(join(dir, 'ca'));
  // 127.0.0.2, where the az harness's stand-ins expect the identity platform.
  platform = await startIdentityPlatform({ tls: { ...ca.serverCertificate, ca: ca.caPem }, host: '127.0.0.2' });
  platform.controls.pollIntervalSeconds = 1;
  const trustedKeys = () => new Map(platform.signingKeys.map((key) => [key.kid, key.publicKey]));
  apiServer = await startApiServer({ tls: ca.serverCertificate, trustedKeys, audiences: [demo.AKS_SERVER_APP_ID, `spn:${demo.AKS_SERVER_APP_ID}`] });
  arm = await startArmServer({ tls: ca.serverCertificate, trustedKeys, world: demoWorld({ server: apiServer.url, caData: Buffer.from(ca.caPem).toString('base64') }) });
  clusterId = clusterResourceId(arm.world.clusters.find((cluster) => cluster.name === CLUSTER) as ArmClusterSpec);
  cli = await createAzureCli({ identityPlatform: platform, ca, dir: join(dir, 'az'), armUrl: `${arm.url}/` });
  signIn = await signInForArm(platform, ALICE, { ca: ca.caPem });
  client = new ArmClient({ endpoint: arm.url, tokenFor: signIn.tokenFor, logger: silentLogger, ca: [ca.caPem], requestTimeoutMs: 10_000 });
});

after(async () => {
  if (missing) return;
  const total = cli.calls.reduce((sum, call) => sum + call.durationMs, 0);
  process.stdout.write(`az: ${cli.calls.length} runs, ${(total / 1000).toFixed(1)} s in all: ${cli.calls.map((call) => `${call.args.join(' ')} ${Math.round(call.durationMs)} ms`).join('; ')}\n`);
  await cli.close();
  await arm.close();
  await apiServer.close();
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
});

function copyOf(name: string, content: string): string {
  const file = join(dir, name);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

/** `az aks get-credentials` for the cluster into `file`, and the one ARM request it made. */
async function azGetCredentials(file: string, extra: string[] = []): Promise<{ result: AzResult; query: string }> {
  const before = arm.requests.length;
  const result = await cli.run(['aks', 'get-credentials', '--resource-group', GROUP, '--name', CLUSTER, '--subscription', SUBSCRIPTION, '--file', file, '--format', 'exec', ...extra]);
  const made = arm.requests.slice(before);
  assert.deepEqual(
    made.map((request) => `${request.method} ${request.path} ${request.status}`),
    [`POST ${CREDENTIAL_PATH} 200`],
    'az asks ARM once, for the credentials only',
  );
  return { result, query: made[0]?.query ?? '' };
}

/** What our "Add Cluster from Azure" fetches: the user kubeconfig in the exec format. */
async function ourCredentials(): Promise<{ text: string; query: string }> {
  const before = arm.requests.length;
  const fetched = await client.getClusterUserCredential(clusterId, { format: 'exec' });
  const made = arm.requests.slice(before);
  assert.deepEqual(made.map((request) => `${request.method} ${request.path} ${request.status}`), [`POST ${CREDENTIAL_PATH} 200`]);
  return { text: fetched, query: made[0]?.query ?? '' };
}

async function view(t: Parameters<typeof kubectlOrSkip>[0], file: string): Promise<View> {
  const kubectl = kubectlOrSkip(t, '1.33')!;
  const result = await runKubectl(kubectl, ['config', 'view', '--raw', '-o', 'json'], { kubeconfig: file });
  assert.equal(result.code, 0, `kubectl reads ${file}: ${result.stderr}`);
  return JSON.parse(result.stdout) as View;
}

const names = (entries: unknown) => (Array.isArray(entries) ? entries.map((entry) => (entry as Json)['name']) : []);
const byName = (entries: unknown): Json[] => (Array.isArray(entries) ? [...(entries as Json[])].sort((a, b) => String(a['name']).localeCompare(String(b['name']))) : []);

/**
 * The lines of `original` all appear in `merged`, in order and byte for byte; returns the runs of lines
 * `merged` has beyond them, each as one block of text.
 */
function insertedBlocks(original: string, merged: string): string[] {
  const a = original.split(/(?<=\n)/);
  const b = merged.split(/(?<=\n)/);
  const blocks: string[] = [];
  let j = 0;
  for (const line of a) {
    let block = '';
    while (j < b.length && b[j] !== line) block += b[j++];
    assert.ok(j < b.length, `the original line ${JSON.stringify(line)} is kept, in order`);
    if (block !== '') blocks.push(block);
    j++;
  }
  if (j < b.length) blocks.push(b.slice(j).join(''));
  return blocks;
}

function isLineSubsequence(original: string, other: string): boolean {
  const b = other.split(/(?<=\n)/);
  let j = 0;
  for (const line of original.split(/(?<=\n)/)) {
    while (j < b.length && b[j] !== line) j++;
    if (j === b.length) return false;
    j++;
  }
  return true;
}

const commentLines = (content: string) => content.split('\n').filter((line) => /(^|\s)#/.test(line));

describe('az aks get-credentials (azure-cli 2.45) and our merge, into copies of the same kubeconfig', { skip }, () => {
  test('az signs in against the identity double and lists the ARM double\'s subscriptions for Contoso', async () => {
    await cli.login(ALICE, { tenant: demo.CONTOSO_TENANT });
    const listed = await cli.run(['account', 'list', '-o', 'json']);
    assert.equal(listed.code, 0, listed.stderr);
    const accounts = JSON.parse(listed.stdout) as Json[];
    assert.deepEqual(
      accounts.map((account) => [account['id'], account['name'], account['tenantId'], (account['user'] as Json)['name']]).sort(),
      [
        [DEMO_SUBSCRIPTIONS.CONTOSO_PROD, 'Contoso Production', demo.CONTOSO_TENANT, ALICE],
        [DEMO_SUBSCRIPTIONS.CONTOSO_DEV, 'Contoso Development', demo.CONTOSO_TENANT, ALICE],
      ].sort(),
    );
    assert.deepEqual(arm.requests.map((request) => `${request.method} ${request.path} ${request.status}`), ['GET /subscriptions 200'], 'az login read the subscriptions from the ARM double');
  });

  test('a new cluster: the same clusters, contexts and users with the same values; az moves current-context and drops every comment, we keep every byte', async (t) => {
    if (kubectlOrSkip(t, '1.33') === undefined) return;
    const theirs = copyOf('round1-az', PERSONAL);
    const ours = copyOf('round1-ours', PERSONAL);

    const az = await azGetCredentials(theirs);
    assert.equal(az.result.code, 0, az.result.stderr);
    assert.equal(az.result.stdout, '');
    assert.equal(az.result.stderr, `WARNING: Merged "${CLUSTER}" as current context in ${theirs}\n`);
    const fetched = await ourCredentials();
    // The same request but for the api-version: az 2.45 pins 2022-11-01, our client a newer stable one.
    assert.match(az.query, /^\?api-version=2022-11-01&format=exec$/);
    assert.match(fetched.query, /^\?api-version=\d{4}-\d\d-\d\d&format=exec$/);

    const report = await mergeKubeconfig(ours, fetched.text, {});
    assert.deepEqual([...report.clusters, ...report.contexts, ...report.users].map((entry) => `${entry.kind}:${entry.name}:${entry.action}`), [
      `cluster:${CLUSTER}:added`,
      `context:${CLUSTER}:added`,
      `user:${USER}:added`,
    ]);

    const azView = await view(t, theirs);
    const ourView = await view(t, ours);
    const incoming = await view(t, copyOf('round1-incoming', fetched.text));
    assert.equal(azView['current-context'], CLUSTER, 'az makes the new cluster current');
    assert.equal(ourView['current-context'], 'onprem-admin', 'we leave the person\'s current context alone');
    assert.deepEqual({ ...azView, 'current-context': '' }, { ...ourView, 'current-context': '' }, 'apart from current-context, kubectl reads the same config from both files');
    for (const list of ['clusters', 'contexts', 'users'] as const) {
      const merged = ourView[list]?.find((entry) => entry['name'] === (incoming[list]?.[0] as Json)['name']);
      assert.deepEqual(merged, incoming[list]?.[0], `the ${list} entry is what ARM handed out`);
    }

    // As data (not through kubectl's normalising view): the same lists in the same order, the same scalars.
    const azText = readFileSync(theirs, 'utf8');
    const ourText = readFileSync(ours, 'utf8');
    assert.deepEqual({ ...(parse(azText) as Json), 'current-context': '' }, { ...(parse(ourText) as Json), 'current-context': '' });

    // Our file: every original line, in order, with three whole entries inserted, one at the end of each list.
    const inserted = insertedBlocks(PERSONAL, ourText);
    assert.equal(inserted.length, 3, `whole entries were inserted at three places: ${JSON.stringify(inserted.map((piece) => piece.split('\n')[0]))}`);
    const given = parse(fetched.text) as Record<'clusters' | 'contexts' | 'users', Json[]>;
    assert.deepEqual(inserted.map((piece) => parse(piece) as unknown), [given.clusters, given.contexts, given.users], 'each inserted block is one entry ARM handed out');
    assert.deepEqual(commentLines(ourText), commentLines(PERSONAL));
    assert.equal(commentLines(PERSONAL).length, 4);

    // az's file: PyYAML wrote it anew from the data.
    assert.deepEqual(commentLines(azText), [], 'az dropped every comment, the one after a value too');
    assert.ok(!isLineSubsequence(PERSONAL, azText), 'az did not keep the original lines');
    assert.ok(!azText.includes(text(ONPREM_CONTEXT)), 'az sorted the keys of the context the person wrote name-first');
    assert.ok(azText.includes(text(['- context:', '    cluster: onprem', '    namespace: kube-system', '    user: onprem-admin', '  name: onprem-admin'])));
    assert.match(azText, /\n {6}installHint: '\n\n {8}kubelogin is not installed/, 'az turned the block-scalar installHint into a quoted scalar');
    assert.equal(statSync(theirs).mode & 0o777, 0o600);
    assert.equal(statSync(ours).mode & 0o777, 0o600);
  });

  test('a name that exists with other content: az refuses without a terminal and replaces with --overwrite-existing; we report the conflict, and replace to the same entries or keep both', async (t) => {
    if (kubectlOrSkip(t, '1.33') === undefined) return;
    const theirs = copyOf('round2-az', WITH_STALE);
    const ours = copyOf('round2-ours', WITH_STALE);
    const both = copyOf('round2-both', WITH_STALE);

    const refused = await azGetCredentials(theirs);
    assert.equal(refused.result.code, 1);
    assert.equal(refused.result.stdout, '');
    // The prompt is skipped without a terminal; clusters are compared first, so the cluster is named.
    assert.equal(refused.result.stderr, `ERROR: A different object named ${CLUSTER} already exists in clusters in your kubeconfig file.\n`);
    assert.equal(readFileSync(theirs, 'utf8'), WITH_STALE, 'az left the file as it was');

    const replacedByAz = await azGetCredentials(theirs, ['--overwrite-existing']);
    assert.equal(replacedByAz.result.code, 0, replacedByAz.result.stderr);
    assert.equal(replacedByAz.result.stderr, `WARNING: Merged "${CLUSTER}" as current context in ${theirs}\n`);

    const fetched = await ourCredentials();
    const plan = await planKubeconfigMerge(ours, fetched.text);
    assert.deepEqual(plan.entries.map((entry) => `${entry.kind}:${entry.name}:${entry.status}`), [`cluster:${CLUSTER}:conflict`, `context:${CLUSTER}:identical`, `user:${USER}:conflict`]);
    assert.deepEqual(plan.conflicts, [`cluster:${CLUSTER}`, `user:${USER}`]);
    await assert.rejects(mergeKubeconfig(ours, fetched.text, {}), (error: unknown) => {
      assert.ok(error instanceof KubeconfigError && error.kind === 'conflict', String(error));
      return true;
    });
    assert.equal(readFileSync(ours, 'utf8'), WITH_STALE, 'an unresolved conflict changes nothing, as with az');

    const report = await mergeKubeconfig(ours, fetched.text, { [`cluster:${CLUSTER}`]: 'replace', [`user:${USER}`]: 'replace' });
    assert.deepEqual([...report.clusters, ...report.contexts, ...report.users].map((entry) => `${entry.kind}:${entry.name}:${entry.action}`), [
      `cluster:${CLUSTER}:replaced`,
      `context:${CLUSTER}:unchanged`,
      `user:${USER}:replaced`,
    ]);

    const azView = await view(t, theirs);
    const ourView = await view(t, ours);
    assert.equal(azView['current-context'], CLUSTER);
    assert.equal(ourView['current-context'], 'onprem-admin');
    assert.deepEqual({ ...azView, 'current-context': '' }, { ...ourView, 'current-context': '' }, 'apart from current-context, kubectl reads the same config from both files');
    const user = ourView.users?.find((entry) => entry['name'] === USER)?.['user'] as Json;
    assert.equal((user['exec'] as Json)['command'], 'kubelogin', 'the stale auth-provider user was replaced by the exec skeleton');
    assert.equal(user['auth-provider'], undefined);

    // As data: the same entries, but az removes a matching entry and appends the new one, so the replaced
    // entries (and the identical context, removed and appended too) move to the end; ours stay in place.
    const azData = parse(readFileSync(theirs, 'utf8')) as Json;
    const ourText = readFileSync(ours, 'utf8');
    const ourData = parse(ourText) as Json;
    for (const list of ['clusters', 'contexts', 'users'] as const) {
      assert.deepEqual(names(ourData[list]), [list === 'clusters' ? CLUSTER : list === 'contexts' ? CLUSTER : USER, list === 'clusters' ? 'onprem' : 'onprem-admin']);
      assert.deepEqual(names(azData[list]), [...names(ourData[list])].reverse(), `az moved ${list} ${String(names(ourData[list])[0])} to the end`);
      assert.deepEqual(byName(azData[list]), byName(ourData[list]));
    }
    assert.deepEqual({ ...azData, 'current-context': '', clusters: [], contexts: [], users: [] }, { ...ourData, 'current-context': '', clusters: [], contexts: [], users: [] });

    // Our file: every line outside the two replaced entries is kept, in order; the replacements sit where the stale entries were.
    const between = (from: string, to: string[]) => ourText.slice(ourText.indexOf(from) + from.length, ourText.indexOf(text(to)));
    const newCluster = between('\nclusters:\n', ONPREM_CLUSTER);
    const newUser = between('\nusers:\n', ONPREM_USER);
    const given = parse(fetched.text) as Record<'clusters' | 'users', Json[]>;
    assert.deepEqual([parse(newCluster), parse(newUser)], [given.clusters, given.users]);
    assert.equal(ourText, WITH_STALE.replace(text(STALE_CLUSTER), newCluster).replace(text(STALE_USER), newUser), 'only the two stale entries changed, in place');
    assert.deepEqual(commentLines(ourText), commentLines(WITH_STALE));
    assert.deepEqual(commentLines(readFileSync(theirs, 'utf8')), []);

    // Keep both: the new entries beside the stale ones, under new names, with a context that ties them together.
    const kept2 = await mergeKubeconfig(both, fetched.text, { [`cluster:${CLUSTER}`]: 'keepBoth', [`user:${USER}`]: 'keepBoth' });
    assert.deepEqual([...kept2.clusters, ...kept2.contexts, ...kept2.users].map((entry) => `${entry.kind}:${entry.incoming}->${entry.name}:${entry.action}`), [
      `cluster:${CLUSTER}->${CLUSTER}-2:keptBoth`,
      `context:${CLUSTER}->${CLUSTER}-2:keptBoth`,
      `user:${USER}->${USER}-2:keptBoth`,
    ]);
    const bothView = await view(t, both);
    const context = bothView.contexts?.find((entry) => entry['name'] === `${CLUSTER}-2`)?.['context'] as Json;
    assert.deepEqual([context['cluster'], context['user']], [`${CLUSTER}-2`, `${USER}-2`]);
    const stale = bothView.clusters?.find((entry) => entry['name'] === CLUSTER)?.['cluster'] as Json;
    assert.equal(stale['server'], 'https://aks-shop-p-rg-shop-8c3f1b-0a1b2c3d.hcp.westeurope.azmk8s.io:443');
    const fresh = (name: string, list: 'clusters' | 'users') => ({ ...(bothView[list]?.find((entry) => entry['name'] === `${name}-2`) as Json), name });
    assert.deepEqual(fresh(CLUSTER, 'clusters'), azView.clusters?.find((entry) => entry['name'] === CLUSTER), 'the kept cluster holds what az replaced with');
    assert.deepEqual(fresh(USER, 'users'), azView.users?.find((entry) => entry['name'] === USER));
    assert.equal(insertedBlocks(WITH_STALE, readFileSync(both, 'utf8')).length, 3);
  });

  test('kubectl 1.33 lists namespaces through our merged file once a token is written for the new user', async (t) => {
    const kubectl = kubectlOrSkip(t, '1.33');
    if (kubectl === undefined) return;
    const file = copyOf('kubectl-ours', PERSONAL);
    await mergeKubeconfig(file, (await ourCredentials()).text, {});

    // The skeleton alone names kubelogin, which this PATH does not have: the token write is what makes it work.
    const skeleton = await runKubectl(kubectl, ['--context', CLUSTER, 'get', 'namespaces'], { kubeconfig: file });
    assert.notEqual(skeleton.code, 0);
    assert.match(skeleton.stderr, /kubelogin/);

    const accessToken = await signIn.tokenFor({ tenantId: demo.CONTOSO_TENANT, scopes: [`${demo.AKS_SERVER_APP_ID}/.default`] });
    const exp = Number((JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp: number }).exp);
    await writeCredentials(file, USER, { format: 'token', accessToken, expiresOn: new Date(exp * 1000), expiresInSeconds: exp - Math.floor(Date.now() / 1000) });

    const result = await runKubectl(kubectl, ['--context', CLUSTER, 'get', 'namespaces', '-o', 'name'], { kubeconfig: file });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), ['namespace/default', 'namespace/kube-system', 'namespace/aks-signin-test']);
    const seen = apiServer.requests.filter((request) => request.tokenSha256 === sha256Hex(accessToken));
    assert.ok(seen.some((request) => request.path === '/api/v1/namespaces' && request.status === 200 && request.subject === ALICE), JSON.stringify(seen));
    assert.deepEqual(commentLines(readFileSync(file, 'utf8')), commentLines(PERSONAL), 'the token write kept the comments too');
  });

  test('into a file that does not exist: both create it 0600; az makes current-context the new cluster, we leave it empty', async (t) => {
    if (kubectlOrSkip(t, '1.33') === undefined) return;
    const theirs = join(dir, 'fresh-az', '.kube', 'config');
    const ours = join(dir, 'fresh-ours', '.kube', 'config');
    const az = await azGetCredentials(theirs);
    assert.equal(az.result.code, 0, az.result.stderr);
    const fetched = await ourCredentials();
    const report = await mergeKubeconfig(ours, fetched.text, {});
    assert.equal(report.created, true);

    assert.equal(statSync(theirs).mode & 0o777, 0o600);
    assert.equal(statSync(ours).mode & 0o777, 0o600);
    // az makes the folder with Python's default mode, under the umask; ours is private.
    const umask = Number.parseInt(/^Umask:\s+([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '22', 8);
    assert.equal(statSync(dirname(theirs)).mode & 0o777, 0o777 & ~umask);
    assert.equal(statSync(dirname(ours)).mode & 0o777, 0o700);

    const azView = await view(t, theirs);
    const ourView = await view(t, ours);
    assert.equal(azView['current-context'], CLUSTER);
    assert.equal(ourView['current-context'], '');
    assert.deepEqual({ ...azView, 'current-context': '' }, ourView);
    assert.deepEqual(parse(readFileSync(theirs, 'utf8')), parse(fetched.text), 'az wrote what ARM gave, as data');
  });

  test('nothing az did left loopback', () => {
    assert.deepEqual(cli.egressAttempts(), []);
  });
});
