// The pieces that read ARM's answers, on inputs the double never sends: Retry-After forms, challenges, ids,
// resources of every Entra ID mode, broken credentials, and a nextLink to another host.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ArmClient, ArmError, parseClusterId, retryAfterMs, roleFor } from '../../../src/core/arm';
import { kubeconfigFromCredentialResults } from '../../../src/core/arm/credential';
import { bearerChallenge, claimsFromChallenge, requiredTenant } from '../../../src/core/arm/errors';
import { clusterSummary } from '../../../src/core/arm/resources';
import { RecordingLogger, testCa } from './harness';

describe('Retry-After', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');
  it('reads delta seconds and HTTP dates, and nothing else', () => {
    assert.equal(retryAfterMs({ 'retry-after': '17' }, now), 17_000);
    assert.equal(retryAfterMs({ 'retry-after': 'Sat, 01 Mar 2025 12:00:30 GMT' }, now), 30_000);
    assert.equal(retryAfterMs({ 'retry-after': 'Sat, 01 Mar 2025 11:59:00 GMT' }, now), 0);
    assert.equal(retryAfterMs({ 'retry-after': 'soon' }, now), undefined);
    assert.equal(retryAfterMs({ 'retry-after': '-3' }, now), undefined);
    assert.equal(retryAfterMs({}, now), undefined);
  });
});

describe('challenges', () => {
  it('parses a claims challenge and decodes standard or URL-safe base64 to the JSON MSAL wants', () => {
    const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
    for (const encoded of [Buffer.from(claims).toString('base64'), Buffer.from(claims).toString('base64url')]) {
      const header = `Bearer authorization_uri="https://login.windows.net/", error="insufficient_claims", claims="${encoded}"`;
      assert.equal(bearerChallenge(header).get('error'), 'insufficient_claims');
      assert.equal(claimsFromChallenge(header), claims);
    }
    assert.equal(claimsFromChallenge('Bearer claims="bm90IGpzb24="'), undefined);
    assert.equal(claimsFromChallenge(undefined), undefined);
  });

  it('takes the required tenant from the challenge, else from the message', () => {
    const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    assert.equal(requiredTenant({ status: 401, headers: { 'www-authenticate': `Bearer authorization_uri="https://login.windows.net/${tenant}", error="invalid_token"` }, body: '{}' }), tenant);
    const body = JSON.stringify({ error: { code: 'InvalidAuthenticationTokenTenant', message: `The access token is from the wrong issuer 'https://sts.windows.net/x/'. It must match the tenant 'https://sts.windows.net/${tenant.toUpperCase()}/' associated with this subscription.` } });
    assert.equal(requiredTenant({ status: 401, headers: {}, body }), tenant);
  });

  it('knows the built-in role behind each refused action', () => {
    assert.equal(roleFor('Microsoft.ContainerService/managedClusters/listClusterUserCredential/action'), 'Azure Kubernetes Service Cluster User Role');
    assert.equal(roleFor('microsoft.containerservice/managedclusters/listclusteradmincredential/action'), 'Azure Kubernetes Service Cluster Admin Role');
    assert.equal(roleFor('Microsoft.Resources/subscriptions/resourceGroups/read'), 'Reader');
    assert.equal(roleFor('Microsoft.ContainerService/managedClusters/write'), undefined);
  });
});

describe('cluster ids and resources', () => {
  it('parses ids case-insensitively and refuses what is not a managed cluster', () => {
    assert.deepEqual(parseClusterId('/subscriptions/S/resourcegroups/My-RG/providers/microsoft.containerservice/MANAGEDCLUSTERS/aks1/'), { subscriptionId: 'S', resourceGroup: 'My-RG', name: 'aks1' });
    for (const id of ['', '/subscriptions/S/resourceGroups/rg', '/subscriptions/S/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/a/agentPools/p']) {
      assert.throws(() => parseClusterId(id), (error: unknown) => error instanceof ArmError && error.kind === 'badRequest');
    }
  });

  it('summarises each Entra ID mode, and skips JSON that is not a cluster', () => {
    const base = { id: '/subscriptions/s/resourcegroups/rg/providers/Microsoft.ContainerService/managedClusters/c', name: 'c', location: 'eastus' };
    assert.deepEqual(clusterSummary({ ...base, properties: { aadProfile: { managed: true }, kubernetesVersion: '1.29' } })?.entraId, { mode: 'aksManagedEntra', azureRbac: false, adminGroupObjectIds: [] });
    assert.equal(clusterSummary({ ...base, properties: { kubernetesVersion: '1.29' } })?.kubernetesVersion, '1.29');
    assert.deepEqual(clusterSummary({ ...base, properties: { aadProfile: { serverAppID: 'srv', clientAppID: 'cli', tenantID: 't' } } })?.entraId, { mode: 'legacyAad', serverAppId: 'srv', clientAppId: 'cli', tenantId: 't' });
    assert.deepEqual(clusterSummary({ ...base, properties: {} })?.entraId, { mode: 'localAccountsOnly' });
    assert.equal(clusterSummary({ ...base, id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/v' }), undefined);
    assert.equal(clusterSummary('not an object'), undefined);
  });
});

describe('credential answers', () => {
  const what = 'get the user credentials of AKS cluster c';
  const encode = (text: string) => ({ kubeconfigs: [{ name: 'clusterUser', value: Buffer.from(text).toString('base64') }] });
  const refused = (body: unknown, why: RegExp) =>
    assert.throws(() => kubeconfigFromCredentialResults(body, what), (error: unknown) => {
      assert.ok(error instanceof ArmError && error.kind === 'badResponse', String(error));
      assert.match(error.message, why);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });

  it('refuses answers without a usable kubeconfig, naming why but never quoting it', () => {
    refused({}, /holds no kubeconfig/);
    refused({ kubeconfigs: [] }, /holds no kubeconfig/);
    refused({ kubeconfigs: [{ value: 'not base64 s3cret!' }] }, /not base64/);
    refused({ kubeconfigs: [{ value: Buffer.from([0xff, 0xfe, 0x00]).toString('base64') }] }, /not UTF-8/);
    refused(encode('users: [token: s3cret\n  - :'), /not valid YAML/);
    refused(encode('apiVersion: v1\nclusters: []\nusers:\n- name: u\n  user: {token: s3cret}\n'), /has no clusters/);
    refused(encode('a: 1\na: 2\n'), /not valid YAML/);
  });
});

describe('nextLink', () => {
  it('is not followed to another host, so the token never goes there', async () => {
    let asked = 0;
    const server = createServer(testCa().serverCertificate, (_request, response) => {
      asked++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ value: [], nextLink: 'https://localhost:1/tenants?api-version=2022-12-01&%24skipToken=x' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new ArmClient({ endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, tokenFor: async () => 'opaque', logger: new RecordingLogger(), ca: [testCa().caPem] });
      await assert.rejects(client.listTenants(), (error: unknown) => error instanceof ArmError && error.kind === 'badResponse' && error.code === 'ForeignNextLink' && /links to localhost:1, which is not the Resource Manager endpoint 127\.0\.0\.1:\d+; it was not followed/.test(error.message));
      assert.equal(asked, 1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
