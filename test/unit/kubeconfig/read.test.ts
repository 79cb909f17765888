import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeconfigError, fileForUser, readKubeconfig, type UserCredential } from '../../../src/core/kubeconfig';
import { fixture, scratchFolder } from './support';

function aks(credential: UserCredential | undefined) {
  assert.equal(credential?.kind, 'aks');
  return credential as Extract<UserCredential, { kind: 'aks' }>;
}

test('an az-merged kubeconfig yields its contexts and recognises each kind of user', async () => {
  const view = await readKubeconfig([fixture('merged.yaml')]);
  assert.deepEqual(view.files, [fixture('merged.yaml')]);
  assert.equal(view.currentContext, 'prod');
  assert.deepEqual(view.problems, []);
  assert.deepEqual(
    view.contexts.map((c) => [c.name, c.clusterName, c.userName, c.server, c.namespace]),
    [
      ['prod', 'prod', 'clusterUser_rg-prod_prod', 'https://prod-dns-4f1c2a.hcp.westeurope.azmk8s.io:443', 'payments'],
      ['staging', 'staging', 'clusterUser_rg-staging_staging', 'https://staging-dns-77ab01.hcp.eastus.azmk8s.io:443', undefined],
      ['legacy-aad', 'legacy-aad', 'clusterUser_rg-legacy_legacy-aad', 'https://legacy-aad.hcp.northeurope.azmk8s.io:443', undefined],
      ['kind-local', 'kind-local', 'kind-local', 'https://127.0.0.1:6443', undefined],
      ['eks', 'eks', 'eks-admin', 'https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com', undefined],
    ],
  );

  const prod = aks(view.users.get('clusterUser_rg-prod_prod')?.credential);
  assert.deepEqual(prod.identity, {
    serverId: '6dae42f8-4368-4678-94ff-3960e28e3630',
    clientId: '80faf920-1908-4b52-b5ef-a8e7bedfc67a',
    tenantId: '5c1f2b8e-0d4f-4a57-9a2c-7f3b1a9e6d21',
    environment: 'AzurePublicCloud',
    loginMode: 'devicecode',
    origin: 'exec-kubelogin',
  });
  assert.equal(prod.format, 'none');
  assert.equal(prod.managed, false);

  // --flag=value in kubelogin's order, no client id (AKS-managed default) and no tenant (organizations).
  const staging = aks(view.users.get('clusterUser_rg-staging_staging')?.credential);
  assert.deepEqual(staging.identity, {
    serverId: '6dae42f8-4368-4678-94ff-3960e28e3630',
    clientId: '80faf920-1908-4b52-b5ef-a8e7bedfc67a',
    tenantId: undefined,
    environment: 'AzureUSGovernmentCloud',
    loginMode: 'devicecode',
    origin: 'exec-kubelogin',
  });

  const legacy = aks(view.users.get('clusterUser_rg-legacy_legacy-aad')?.credential);
  assert.deepEqual(legacy.identity, {
    serverId: '3f4c7a1e-9b2d-4e8f-a6c5-1d0e2f3a4b5c',
    clientId: '8d2e6f0a-7c1b-4a3d-9e5f-2b4c6d8e0f1a',
    tenantId: 'contoso.onmicrosoft.com',
    environment: 'AzurePublicCloud',
    configMode: '1',
    origin: 'auth-provider',
  });
  assert.equal(legacy.format, 'none');

  assert.deepEqual(view.users.get('kind-local')?.credential, { kind: 'other', description: 'client certificate' });
  assert.deepEqual(view.users.get('eks-admin')?.credential, { kind: 'other', description: 'exec plugin aws' });
});

test('several files merge first-wins, and writes go to the file that defines the user', async () => {
  const view = await readKubeconfig([fixture('merged.yaml'), fixture('absent.yaml'), fixture('second.yaml')]);
  assert.deepEqual(view.files, [fixture('merged.yaml'), fixture('second.yaml')]);
  assert.equal(view.currentContext, 'prod');
  assert.equal(view.contexts.filter((c) => c.name === 'prod').length, 1);
  assert.equal(view.contexts.find((c) => c.name === 'prod')?.userName, 'clusterUser_rg-prod_prod');
  assert.equal(view.contexts.find((c) => c.name === 'dev')?.file, fixture('second.yaml'));
  assert.equal(fileForUser(view, 'clusterUser_rg-prod_prod'), fixture('merged.yaml'));
  assert.equal(fileForUser(view, 'clusterUser_rg-dev_dev'), fixture('second.yaml'));
  assert.equal(aks(view.users.get('clusterUser_rg-dev_dev')?.credential).identity.serverId, '6dae42f8-4368-4678-94ff-3960e28e3630');
  // The shadowed context in the second file names a user nobody defines; kubectl never sees it.
  assert.deepEqual(view.problems, []);
  assert.throws(() => fileForUser(view, 'nobody'), (error: unknown) => error instanceof KubeconfigError && error.kind === 'notFound');
});

test('a JSON kubeconfig is read like a YAML one', async () => {
  const view = await readKubeconfig([fixture('flow.json')]);
  assert.equal(aks(view.users.get('json-user')?.credential).identity.tenantId, '5c1f2b8e-0d4f-4a57-9a2c-7f3b1a9e6d21');
  assert.equal(view.users.get('cert-user')?.credential.kind, 'other');
});

test('missing references and duplicate names are problems, not failures', async () => {
  const view = await readKubeconfig([fixture('missing-reference.yaml'), fixture('duplicate-user.yaml')]);
  const kinds = view.problems.map((p) => [p.kind, p.file]);
  assert.deepEqual(kinds, [
    ['duplicateName', fixture('duplicate-user.yaml')],
    ['missingReference', fixture('missing-reference.yaml')],
    ['missingReference', fixture('missing-reference.yaml')],
  ]);
  assert.match(view.problems[1]?.message ?? '', /"nobody"/);
  // duplicate-user.yaml's context uses cluster "a" from the other file: references resolve across files.
  assert.equal(view.contexts.length, 3);
  assert.equal(view.users.get('twice')?.credential.kind, 'aks');
});

test('a malformed file, or a file that is not a kubeconfig, throws a typed error naming the file', async () => {
  await assert.rejects(readKubeconfig([fixture('malformed.yaml')]), (error: unknown) => {
    assert.ok(error instanceof KubeconfigError);
    assert.equal(error.kind, 'malformed');
    assert.equal(error.file, fixture('malformed.yaml'));
    assert.match(error.message, /line \d+/);
    return true;
  });
  await assert.rejects(readKubeconfig([fixture('not-kubeconfig.yaml')]), (error: unknown) => error instanceof KubeconfigError && error.kind === 'notKubeconfig');
});

test('an empty file is an empty config, an unreadable one is an error', async (t) => {
  const dir = scratchFolder(t);
  writeFileSync(join(dir, 'empty'), '');
  const view = await readKubeconfig([join(dir, 'empty')]);
  assert.deepEqual([view.files.length, view.contexts.length, view.users.size], [1, 0, 0]);
  if (process.getuid?.() === 0) return t.skip('root reads every file');
  writeFileSync(join(dir, 'locked-away'), readFileSync(fixture('merged.yaml')));
  chmodSync(join(dir, 'locked-away'), 0o000);
  await assert.rejects(readKubeconfig([join(dir, 'locked-away')]), (error: unknown) => error instanceof KubeconfigError && error.kind === 'unreadable');
});
